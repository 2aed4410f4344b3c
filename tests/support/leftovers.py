"""Leftovers of test runs that were killed before their cleanup ran.

A killed `pytest` or end-to-end run leaves its containers (and their test volumes) on the
shared engine; the next run's `gc` then sees stale containers that are not its own. Each
run claims its scratch root with an owner file (pid and the kernel's start time of that
process, so a reused pid does not count); containers whose workspace lies under a root
whose owner is gone are removed here, before a run creates anything. The editor
extension's end-to-end run writes the same file (its setup) and calls this module too:

    python -m tests.support.leftovers
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import docker

OWNER_FILE = ".cai-test-owner"
# the volumes tests create: the sandboxes' and the end-to-end run's
TEST_VOLUMES = re.compile(r"^(cai-test-|e2e)")
# pytest's numbered base folders, and the end-to-end run's scratch folders (the innermost)
_ROOT = re.compile(r"^(.*(?:/pytest-of-[^/]+/pytest-\d+|/cai-e2e-[^/]+))/")


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (after the command, which may hold spaces)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def claim(root: Path) -> None:
    """Mark `root` as this process's until it exits."""
    (root / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")


def owner_alive(root: str) -> bool:
    try:
        pid, started = (Path(root) / OWNER_FILE).read_text().split()
    except (OSError, ValueError):
        return False  # never claimed (or gone): an older or finished run
    return _start_time(int(pid)) == started


def test_root(workspace: str) -> str | None:
    found = _ROOT.match(workspace)
    return found.group(1) if found else None


def orphans(workspaces: Iterable[tuple[str, str]]) -> list[str]:
    """Ids of the (id, workspace) pairs that belong to a test run no longer alive."""
    return [cid for cid, ws in workspaces if (root := test_root(ws)) and not owner_alive(root)]


def reap(client: docker.DockerClient) -> list[str]:
    """Remove orphaned test containers and their test volumes; say what went."""
    listed = client.containers.list(
        all=True, sparse=True, filters={"label": "containai.workspace"}
    )
    labels = {c.id: c.attrs.get("Labels") or {} for c in listed}
    gone: list[str] = []
    for cid in orphans((cid, lab["containai.workspace"]) for cid, lab in labels.items()):
        volume = labels[cid].get("containai.data-volume", "")
        try:
            client.api.remove_container(cid, force=True)
            gone.append(f"container {cid[:12]} ({labels[cid]['containai.workspace']})")
            if TEST_VOLUMES.match(volume) and not _in_use(client, volume):
                client.api.remove_volume(volume, force=True)
                gone.append(f"volume {volume}")
        except docker.errors.APIError:
            continue  # removed meanwhile, or still in use by another container
    return gone


def _in_use(client: docker.DockerClient, volume: str) -> bool:
    return bool(client.api.containers(all=True, filters={"volume": volume}, quiet=True))


def main() -> int:
    client = docker.from_env(timeout=60)
    try:
        for line in reap(client):
            print(f"leftovers of an earlier test run removed: {line}")
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

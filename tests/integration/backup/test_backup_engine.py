"""Export and import of a data volume against the real engine.

A volume holding ~50 MB of files goes out to a .tgz and back into a new volume with the
same sha256 of every file; a server SIGKILLed mid-export leaves no file under the final
name, one killed mid-import leaves a volume that a second import refuses as interrupted;
a damaged archive changes nothing. The helpers run from the tiny test image.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.support.engines import TINY_IMAGE
from tests.support.raw_client import Message, RawServer

pytestmark = pytest.mark.engine

FILL = (
    "set -e; mkdir -p /v/a/b /v/.agent; "
    "for i in 0 1 2 3 4 5 6 7 8 9; do "
    "dd if=/dev/urandom of=/v/a/f$i bs=1M count=5 2>/dev/null; done; "
    "echo secret > /v/.agent/token; chmod 600 /v/.agent/token; chown -R 1000:1000 /v/.agent; "
    "ln -s a/f0 /v/link; : > /v/a/b/empty"
)
SUMS = "cd /v && find . -type f -exec sha256sum {} + | sort -k2"


def _sh(client: docker.DockerClient, volume: str, script: str, mode: str = "ro") -> str:
    out = client.containers.run(
        TINY_IMAGE,
        ["sh", "-c", script],
        volumes={volume: {"bind": "/v", "mode": mode}},
        remove=True,
        network_disabled=True,
    )
    return out.decode()


def _listing(client: docker.DockerClient, volume: str) -> str:
    """Owners, modes, sizes and times of everything but the volume's root (whose mtime the
    import's final marker removal changes)."""
    return _sh(client, volume, "cd /v && ls -laR --full-time . | grep -v ' \\.\\.\\?$' || true")


@pytest.fixture
def volumes(sandbox: Any) -> Iterator[Any]:
    """`new()` names a fresh volume that is removed afterwards, with any helper on it."""

    def new() -> str:
        name = f"{sandbox.volume}-{uuid.uuid4().hex[:6]}"
        sandbox.extra_volumes.add(name)
        return name

    yield new
    for c in sandbox.client.containers.list(all=True, filters={"label": "containai.helper"}):
        mounted = {m.get("Name") for m in c.attrs.get("Mounts") or []}
        if mounted & (sandbox.extra_volumes | {sandbox.volume}):
            c.remove(force=True)


@pytest.fixture
def source(sandbox: Any, volumes: Any) -> tuple[str, str]:
    """A volume with 50 MB of random files, owners, modes, a symlink; and its checksums."""
    name = volumes()
    sandbox.client.volumes.create(name)
    _sh(sandbox.client, name, FILL, mode="rw")
    return name, _sh(sandbox.client, name, SUMS)


@pytest.fixture
def server(sandbox: Any, tmp_path: Path) -> Iterator[Any]:
    started: list[RawServer] = []

    def start() -> RawServer:
        s = RawServer(sandbox.env, sandbox.root, tmp_path / f"server-{len(started)}.err", None)
        started.append(s)
        s.initialize()
        return s

    yield start
    for s in started:
        s.close()


def _helpers(sandbox: Any, volume: str) -> list[Any]:
    found = sandbox.client.containers.list(all=True, filters={"label": "containai.helper"})
    return [c for c in found if volume in {m.get("Name") for m in c.attrs.get("Mounts") or []}]


def test_export_then_import_into_a_new_volume_keeps_every_file(sandbox, source, volumes, server):
    name, sums = source
    archive = sandbox.root / "backup.tgz"
    rpc = server()
    exported = rpc.result(
        "containai/export",
        {"output": str(archive), "dataVolume": name, "image": TINY_IMAGE},
        timeout=300,
    )
    assert exported["path"] == str(archive) and archive.is_file()
    assert exported["files"] == 12 and exported["bytes"] >= 50 << 20
    assert [p.name for p in archive.parent.iterdir() if "partial" in p.name] == []
    assert _helpers(sandbox, name) == []

    target = volumes()
    imported = rpc.result(
        "containai/import", {"input": str(archive), "dataVolume": target}, timeout=300
    )
    assert imported["created"] is True and imported["sourceVolume"] == name
    assert _sh(sandbox.client, target, SUMS) == sums
    assert _listing(sandbox.client, target) == _listing(sandbox.client, name)  # owners, modes
    assert _sh(sandbox.client, name, SUMS) == sums  # the source is untouched
    assert _helpers(sandbox, target) == []

    # The target now holds files: a second import refuses without force, works with it.
    again = rpc.request("containai/import", {"input": str(archive), "dataVolume": target})
    assert again["error"]["data"]["reason"] == "volumeNotEmpty"
    forced = {"input": str(archive), "dataVolume": target, "force": True}
    assert rpc.result("containai/import", forced, timeout=300)["created"] is False
    assert _sh(sandbox.client, target, SUMS) == sums

    # An existing output file is never replaced without force.
    refused = rpc.request(
        "containai/export", {"output": str(archive), "dataVolume": name, "image": TINY_IMAGE}
    )
    assert refused["error"]["data"]["reason"] == "invalidPath"


def test_a_damaged_archive_changes_nothing(sandbox, source, volumes, server):
    name, sums = source
    archive = sandbox.root / "backup.tgz"
    rpc = server()
    rpc.result(
        "containai/export",
        {"output": str(archive), "dataVolume": name, "image": TINY_IMAGE},
        timeout=300,
    )
    raw = archive.read_bytes()
    truncated = sandbox.root / "truncated.tgz"
    truncated.write_bytes(raw[: len(raw) // 2])
    flipped = sandbox.root / "flipped.tgz"
    flipped.write_bytes(raw[:-4000] + bytes(b ^ 0xFF for b in raw[-4000:-3000]) + raw[-3000:])
    notgz = sandbox.root / "plain.tgz"
    notgz.write_bytes(gzip.decompress(raw)[:4096])

    new = volumes()
    existing = volumes()
    sandbox.client.volumes.create(existing)  # empty, existed before: must stay as it was
    for bad in (truncated, flipped, notgz):
        for target in (new, existing, name):
            response = rpc.request(
                "containai/import", {"input": str(bad), "dataVolume": target, "force": True}
            )
            assert response["error"]["data"]["reason"] == "archiveInvalid", response
    names = {v.name for v in sandbox.client.volumes.list()}
    assert new not in names  # never created
    assert _sh(sandbox.client, existing, "ls -A /v") == ""
    assert _sh(sandbox.client, name, SUMS) == sums


class KillAt:
    def __init__(self, server: RawServer, step: str) -> None:
        self.server, self.step, self.fired = server, step, False

    def __call__(self, message: Message) -> None:
        value = message.params.get("value") if isinstance(message.params, dict) else None
        text = str(value.get("message") or "") if isinstance(value, dict) else ""
        if message.method == "$/progress" and text.startswith(self.step) and not self.fired:
            self.fired = True
            self.server.kill()


def _doomed(rpc: RawServer, step: str, method: str, params: dict[str, Any]) -> None:
    killer = KillAt(rpc, step)
    rpc.on_notification = killer
    rpc.send(
        {
            "jsonrpc": "2.0",
            "id": "doomed",
            "method": method,
            "params": {**params, "workDoneToken": "doomed"},
        }
    )
    rpc.proc.wait(timeout=300)
    assert killer.fired, f"the server never reported {step!r}"
    assert "doomed" not in rpc.responses


def test_server_killed_mid_export_leaves_no_archive(sandbox, source, server):
    name, sums = source
    archive = sandbox.root / "backup.tgz"
    params = {"output": str(archive), "dataVolume": name, "image": TINY_IMAGE}
    _doomed(server(), "Exporting data", "containai/export", params)
    assert not archive.exists()
    assert _sh(sandbox.client, name, SUMS) == sums
    for c in _helpers(sandbox, name):  # what a killed server could not remove
        c.remove(force=True)
    # The next server exports completely.
    assert server().result("containai/export", params, timeout=300)["path"] == str(archive)
    with gzip.open(archive) as handle:
        assert handle.read(10)


def test_server_killed_mid_import_is_never_reported_done(sandbox, source, volumes, server):
    name, sums = source
    archive = sandbox.root / "backup.tgz"
    rpc = server()
    export = {"output": str(archive), "dataVolume": name, "image": TINY_IMAGE}
    rpc.result("containai/export", export, timeout=300)
    rpc.close()

    target = volumes()
    params = {"input": str(archive), "dataVolume": target}
    _doomed(server(), "Importing data", "containai/import", params)
    for c in _helpers(sandbox, target):
        c.remove(force=True)
    assert _sh(sandbox.client, name, SUMS) == sums

    rpc = server()
    again = rpc.request("containai/import", params, timeout=120)
    assert again["error"]["data"]["reason"] == "volumeNotEmpty", again
    assert "interrupted import" in again["error"]["message"]
    done = rpc.result("containai/import", {**params, "force": True}, timeout=300)
    assert done["dataVolume"] == target
    assert _sh(sandbox.client, target, SUMS) == sums  # the marker is gone too

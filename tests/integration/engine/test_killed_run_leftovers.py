"""A killed test run's containers are removed before the next run, never a live run's.

Containers are real (tiny image) and carry the workspace label under a folder laid out
as pytest's or the end-to-end run's scratch; only the owner file differs."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import leftovers
from tests.support.engines import TINY_IMAGE


def _container(sandbox, root: Path, volume: str | None = None) -> str:
    ws = root / "ws" / "repo"
    ws.mkdir(parents=True)
    labels = {"containai.managed": "true", "containai.workspace": str(ws)}
    if volume:
        labels["containai.data-volume"] = volume
        sandbox.extra_volumes.add(volume)
    c = sandbox.client.containers.create(
        TINY_IMAGE,
        ["true"],
        labels=labels,
        volumes={volume: {"bind": "/v"}} if volume else None,
    )
    return c.id


def _exists(sandbox, cid: str) -> bool:
    return bool(sandbox.client.api.containers(all=True, filters={"id": cid}, quiet=True))


def test_only_containers_of_runs_whose_owner_is_gone_are_removed(sandbox):
    base = sandbox.root / "pytest-of-someone"
    killed = base / "pytest-7"  # its owner's pid lives on, but it is another process now
    unclaimed = sandbox.root / "cai-e2e-AbC123"  # a run from before owner files
    live = base / "pytest-8"
    for root in (killed, unclaimed, live):
        root.mkdir(parents=True)
    (killed / leftovers.OWNER_FILE).write_text(f"{os.getpid()} 1\n")
    leftovers.claim(live)
    volume = f"{sandbox.volume}-killed"
    dead = _container(sandbox, killed, volume)
    old = _container(sandbox, unclaimed)
    mine = _container(sandbox, live, f"{sandbox.volume}-live")

    said = leftovers.reap(sandbox.client)

    assert not _exists(sandbox, dead) and not _exists(sandbox, old)
    assert _exists(sandbox, mine)
    assert f"volume {volume}" in said
    assert volume not in {v.name for v in sandbox.client.volumes.list()}
    assert f"{sandbox.volume}-live" in {v.name for v in sandbox.client.volumes.list()}


def test_containers_outside_test_folders_are_never_touched():
    assert leftovers.orphans([("a", "/home/me/project"), ("b", "/tmp/pytest-of-x/other")]) == []
    assert leftovers.orphans([("c", "/tmp/pytest-of-x/pytest-3/t0/ws/r")]) == ["c"]

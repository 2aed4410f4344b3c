"""Reliability-test helpers: the profile, the tally of what the tests did and measured, and
the checks that count into it (volumes kept, foreign containers untouched). The fixtures
and the terminal summary that prints the tally are in tests/reliability/conftest.py."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import docker

PROFILE = os.environ.get("CONTAINAI_RELIABILITY_PROFILE", "fast")
TALLY: Counter[str] = Counter()


def scaled(fast: int, long: int) -> int:
    """A bound of the current profile."""
    return long if PROFILE == "long" else fast


def volume_names(client: docker.DockerClient) -> set[str]:
    return {v.name for v in client.volumes.list()}


def container_fingerprint(client: docker.DockerClient, ids: list[str]) -> dict[str, Any]:
    """What 'touched' means: gone, renamed, restarted, stopped or started since."""
    prints: dict[str, Any] = {}
    for cid in ids:
        try:
            attrs = client.api.inspect_container(cid)
        except docker.errors.NotFound:
            prints[cid] = "removed"
            continue
        state = attrs["State"]
        prints[cid] = (
            attrs["Name"],
            state["Status"],
            state["StartedAt"],
            state["FinishedAt"],
            attrs["RestartCount"],
        )
    return prints


def check_untouched(client: docker.DockerClient, before: dict[str, Any]) -> None:
    """Assert foreign containers are exactly as they were; count them in the tally."""
    after = container_fingerprint(client, list(before))
    touched = [cid[:12] for cid in before if after[cid] != before[cid]]
    TALLY["foreign containers checked"] += len(before)
    TALLY["foreign containers touched"] += len(touched)
    assert not touched, f"foreign containers touched: {touched} ({before} → {after})"


def check_volumes_kept(client: docker.DockerClient, before: set[str]) -> None:
    """Assert no volume that existed before is gone; count them in the tally."""
    lost = before - volume_names(client)
    TALLY["volumes checked"] += len(before)
    TALLY["volumes lost"] += len(lost)
    assert not lost, f"volumes lost: {sorted(lost)}"

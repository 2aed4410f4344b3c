"""Status mapping, exhaustively: every Docker state → the user-facing status, which
states are running-like, and the snapshot fields that depend on them."""

from __future__ import annotations

import pytest

from containai_rpc.core.states import ACTIVE, REUSABLE, STOPPED, guide_status, is_active
from containai_rpc.engine import ContainerInfo
from containai_rpc.service.inventory import required_status
from containai_rpc.service.summary import KeepPolicy, to_summary

EXPECTED = {
    "created": ("created", False),
    "running": ("running", True),
    "paused": ("paused", True),
    "restarting": ("restarting", True),
    "removing": ("stopped", False),
    "exited": ("stopped", False),
    "dead": ("dead", False),
    "something-new": ("dead", False),
}


def box(state: str, runtime: str | None = "runc", keep_label: bool = False) -> ContainerInfo:
    labels = {"containai.managed": "true", "containai.workspace": "/w"}
    if keep_label:
        labels["containai.keep"] = "true"
    return ContainerInfo(
        id="id",
        name="app-main",
        context="default",
        state=state,
        image="img",
        labels=labels,
        created_at="2025-01-01T00:00:00.5Z",
        started_at="2025-01-02T00:00:00Z",
        finished_at="2025-01-03T00:00:00.123456789Z",
        runtime=runtime,
    )


@pytest.mark.parametrize("state", list(EXPECTED))
def test_every_docker_state(state: str):
    status, active = EXPECTED[state]
    assert guide_status(state) == status
    assert is_active(state) is active
    summary = to_summary(box(state), KeepPolicy())
    assert (summary.status, summary.docker_state) == (status, state)
    assert summary.finished_at == (None if active else "2025-01-03T00:00:00Z")
    assert summary.started_at == "2025-01-02T00:00:00Z"


def test_the_state_sets_partition_what_each_operation_does():
    assert {"running", "paused", "restarting"} == ACTIVE
    assert {"exited", "created", "dead"} == STOPPED
    assert {"running", "exited", "created"} == REUSABLE
    assert not ACTIVE & STOPPED


@pytest.mark.parametrize(
    ("runtime", "isolation"),
    [("sysbox-runc", "sysbox"), ("runc", "runc-reduced"), (None, "runc-reduced")],
)
@pytest.mark.parametrize("kept", [False, True])
def test_required_status(runtime: str | None, isolation: str, kept: bool):
    policy = KeepPolicy(kept=frozenset({"app-main"}) if kept else frozenset())
    status = required_status(box("running", runtime), policy)
    assert (status.isolation, status.keep, status.name) == (isolation, kept, "app-main")
    assert status.uptime is None and status.sessions is None  # best-effort parts come later

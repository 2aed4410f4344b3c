"""`stop`'s decisions, exhaustively: options, when sessions are counted, what a count
means (go ahead, or ask first), stop / remove / already stopped, nothing found."""

from __future__ import annotations

import itertools

import pytest

from containai_rpc.engine import ContainerInfo
from containai_rpc.errors import DomainError
from containai_rpc.protocol.stop import StopOutcome, StopParams
from containai_rpc.service.sessions import SessionCounts
from containai_rpc.service.stop_decide import (
    check_options,
    nothing_found,
    probe_needed,
    session_gate,
    stop_step,
)

DOCKER_STATES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")


def box(state: str = "running") -> ContainerInfo:
    return ContainerInfo("id", "app-main", "default", state, "img", {"containai.managed": "true"})


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=3)))
def test_every_target_combination(flags: tuple[bool, bool, bool]):
    all_, container, workspace = flags
    p = StopParams(
        all=all_, container="c" if container else None, workspace="/w" if workspace else None
    )
    expected = (
        "container and all"
        if all_ and container
        else "workspace and all"
        if all_ and workspace
        else "container and workspace"
        if container and workspace
        else None
    )
    if expected is None:
        check_options(p)
        return
    with pytest.raises(DomainError) as err:
        check_options(p)
    assert (err.value.reason, err.value.message) == (
        "conflictingOptions",
        f"{expected} are mutually exclusive",
    )


@pytest.mark.parametrize("state", DOCKER_STATES)
@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("remove", [False, True])
def test_sessions_are_counted_only_for_a_running_container_without_force(
    state: str, force: bool, remove: bool
):
    p = StopParams(force=force, remove=remove)
    assert probe_needed(p, box(state)) is (state == "running" and not force)


COUNTS: dict[str, SessionCounts | None] = {
    "unknown": None,
    "idle": SessionCounts(0, 0),
    "one terminal": SessionCounts(0, 1),
    "two terminals": SessionCounts(0, 2),
    "one ssh": SessionCounts(1, 0),
    "busy": SessionCounts(3, 5),
}


@pytest.mark.parametrize("counted", list(COUNTS))
@pytest.mark.parametrize("remove", [False, True])
def test_what_a_session_count_means(counted: str, remove: bool):
    gate = session_gate(StopParams(remove=remove), box(), COUNTS[counted])
    expected = {
        "unknown": "unknown",
        "idle": "no",
        "one terminal": "no",
        "two terminals": "yes",
        "one ssh": "yes",
        "busy": "yes",
    }[counted]
    assert gate.sessions == expected
    verb = "Remove" if remove else "Stop"
    if expected == "yes":
        assert gate.verb == verb
        assert gate.question == f"Container 'app-main' may have active sessions. {verb} anyway?"
    else:
        assert gate.question is None


@pytest.mark.parametrize("state", DOCKER_STATES)
@pytest.mark.parametrize("remove", [False, True])
def test_stop_remove_or_nothing_to_do(state: str, remove: bool):
    expected = (
        "remove"
        if remove
        else "alreadyStopped"
        if state in ("exited", "created", "dead")
        else "stop"
    )
    assert stop_step(box(state), remove) == expected


def test_nothing_found():
    gone = nothing_found("/w", "app-main", "ctx")
    assert gone == StopOutcome(
        container_name="app-main",
        context="ctx",
        action="notFound",
        message="Container from workspace state not found: app-main",
    )
    never = nothing_found("/w", None, "ctx")
    assert isinstance(never, DomainError)
    assert (never.reason, never.message) == (
        "containerNotFound",
        "No container found for workspace: /w",
    )

"""gc's decisions, exhaustively: every combination of Docker state, managed or not,
protection, age and timestamp; and the re-check right before a removal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from containai_rpc.core.ages import parse_age
from containai_rpc.engine import ContainerInfo
from containai_rpc.protocol.gc import GcContainer, GcSkipped
from containai_rpc.service.gc_decide import (
    after_refused_removal,
    classify,
    skipped_at_removal,
    started_since_scan,
)
from containai_rpc.service.summary import KeepPolicy

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
DOCKER_STATES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")
ZERO = "0001-01-01T00:00:00Z"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def box(
    state: str, *, managed: bool = True, keep_label: bool = False, idle_days: float = 10, ts=True
) -> ContainerInfo:
    labels = {
        "containai.managed": "true" if managed else "false",
        "containai.workspace": "/w",
        "containai.data-volume": "containai-data",
    }
    if keep_label:
        labels["containai.keep"] = "true"
    since = stamp(NOW - timedelta(days=idle_days)) if ts else ZERO
    return ContainerInfo(
        id="id",
        name="app-main",
        context="default",
        state=state,
        image="img",
        labels=labels,
        created_at=since if state == "created" else stamp(NOW - timedelta(days=40)),
        started_at=ZERO if state == "created" else stamp(NOW - timedelta(days=20)),
        finished_at=since if state != "created" else ZERO,
    )


PROTECTION = {
    "none": (False, KeepPolicy()),
    "label": (True, KeepPolicy()),
    "config": (False, KeepPolicy(kept=frozenset({"app-main"}))),
    "released label": (True, KeepPolicy(released=frozenset({"app-main"}))),
}


@pytest.mark.parametrize("state", DOCKER_STATES)
@pytest.mark.parametrize("managed", [True, False])
@pytest.mark.parametrize("protection", list(PROTECTION))
@pytest.mark.parametrize("idle_days", [3, 7, 30])
@pytest.mark.parametrize("timestamp", [True, False])
def test_every_container_is_judged_by_the_rules_in_order(
    state: str, managed: bool, protection: str, idle_days: int, timestamp: bool
):
    keep_label, policy = PROTECTION[protection]
    info = box(state, managed=managed, keep_label=keep_label, idle_days=idle_days, ts=timestamp)
    judged = classify(info, policy, NOW, parse_age("7d"), "7d")
    protected = protection in ("label", "config")
    if not managed:
        expected = "notManaged"
    elif state in ("running", "paused", "restarting"):
        expected = "running"
    elif protected:
        expected = "keep"
    elif state not in ("exited", "created"):
        expected = "unsupportedState"
    elif not timestamp:
        expected = "noTimestamp"
    elif idle_days < 7:
        expected = "tooRecent"
    else:
        expected = "candidate"
    if expected == "candidate":
        assert isinstance(judged, GcContainer)
        assert judged.age_seconds == idle_days * 86400
    else:
        assert isinstance(judged, GcSkipped) and judged.reason == expected


@pytest.mark.parametrize("state", DOCKER_STATES)
@pytest.mark.parametrize("restarted", [False, True])
def test_started_since_the_scan(state: str, restarted: bool):
    scanned = box("exited")
    now = replace(scanned, state=state, started_at=stamp(NOW) if restarted else scanned.started_at)
    assert started_since_scan(scanned, now) is (state not in ("exited", "created") or restarted)


@pytest.mark.parametrize("state", [None, *DOCKER_STATES])
def test_a_refused_removal_is_a_skip_only_when_the_container_moved(state: str | None):
    again = None if state is None else box(state)
    reason = after_refused_removal(again)
    if state is None:
        assert reason == "gone"
    elif state in ("running", "paused", "restarting"):
        assert reason == "startedSinceScan"
    else:
        assert reason is None  # a real failure: reported, not hidden


def test_a_skip_at_removal_keeps_the_candidates_age():
    candidate = classify(box("exited"), KeepPolicy(), NOW, parse_age("7d"), "7d")
    assert isinstance(candidate, GcContainer)
    skipped = skipped_at_removal(candidate, "keep", "exited")
    assert (skipped.reason, skipped.docker_state, skipped.age) == ("keep", "exited", "10d 0h")

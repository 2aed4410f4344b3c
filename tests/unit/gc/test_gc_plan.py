"""gc planning without Docker: who is a candidate and why not, image selection, keep
sources, a removal fault, and the CLI's rendering of results (the original's layout)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from containai_rpc.cli.commands.gc import gc_failed, render_gc, render_keep
from containai_rpc.core.ages import parse_age
from containai_rpc.engine import ContainerInfo
from containai_rpc.engine.models import ImageInfo
from containai_rpc.errors import DomainError
from containai_rpc.protocol.gc import GcContainer, GcParams, GcSkipped
from containai_rpc.service import Hooks, gc
from containai_rpc.service.gc_decide import GcPlan, classify, select_images
from containai_rpc.service.keep import config_entry
from containai_rpc.service.summary import KeepPolicy
from tests.support.fake_engine import FakeDocker

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ZERO = "0001-01-01T00:00:00Z"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own HOME/XDG per test: keep state and locks never touch the real ~/.config."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path


def stamp(moment: datetime) -> str:
    """Docker's form: nanoseconds and Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def box(
    state: str = "exited",
    idle: timedelta = 10 * DAY,
    *,
    name: str = "app-main",
    managed: bool = True,
    keep_label: bool = False,
    finished: str | None = None,
) -> ContainerInfo:
    labels = {
        "containai.managed": "true" if managed else "false",
        "containai.workspace": "/w",
        "containai.data-volume": "containai-data",
    }
    if keep_label:
        labels["containai.keep"] = "true"
    since = stamp(NOW - idle)
    return ContainerInfo(
        id=f"id-{name}",
        name=name,
        context="default",
        state=state,
        image="containai:latest",
        labels=labels,
        created_at=since if state == "created" else stamp(NOW - 40 * DAY),
        started_at=ZERO if state == "created" else stamp(NOW - 20 * DAY),
        finished_at=finished if finished is not None else (since if state != "created" else ZERO),
    )


def judge(info: ContainerInfo, age: str = "7d", keep: KeepPolicy | None = None) -> Any:
    return classify(info, keep or KeepPolicy(), NOW, parse_age(age), age)


def reason(info: ContainerInfo, age: str = "7d", keep: KeepPolicy | None = None) -> str:
    found = judge(info, age, keep)
    return "candidate" if isinstance(found, GcContainer) else found.reason


# --------------------------------------------------------------------------- classify


def test_an_old_exited_container_is_a_candidate_aged_from_finished_at():
    found = judge(box("exited", 10 * DAY + timedelta(hours=5)))
    assert isinstance(found, GcContainer)
    assert (found.state, found.age, found.age_seconds) == ("exited", "10d 5h", 882000)
    assert found.reason == "stopped 10d 5h ago (age >= 7d)"
    assert (found.workspace, found.context) == ("/w", "default")


def test_a_created_container_is_aged_from_created():
    found = judge(box("created", 8 * DAY))
    assert isinstance(found, GcContainer)
    assert (found.state, found.age) == ("created", "8d 0h")
    assert found.reason.startswith("created, never started, 8d 0h ago")
    assert reason(box("created", 6 * DAY)) == "tooRecent"


@pytest.mark.parametrize("state", ["running", "paused", "restarting"])
def test_active_containers_are_never_candidates_even_when_kept(state: str):
    assert reason(box(state, 100 * DAY)) == "running"
    assert reason(box(state, 100 * DAY, keep_label=True)) == "running"


def test_unmanaged_and_unsupported_states_and_bad_timestamps():
    assert reason(box(managed=False, idle=100 * DAY)) == "notManaged"
    assert reason(box("dead", 100 * DAY)) == "unsupportedState"
    assert reason(box("removing", 100 * DAY)) == "unsupportedState"
    assert reason(box(finished=ZERO)) == "noTimestamp"
    assert reason(box(finished="yesterday")) == "noTimestamp"
    skipped = judge(box(managed=False))
    assert isinstance(skipped, GcSkipped) and skipped.age is None


def test_the_age_boundary_is_inclusive():
    assert reason(box(idle=7 * DAY)) == "candidate"
    assert reason(box(idle=7 * DAY - timedelta(microseconds=1))) == "tooRecent"
    skipped = judge(box(idle=6 * DAY + timedelta(hours=23)))
    assert (skipped.reason, skipped.age, skipped.age_seconds) == ("tooRecent", "6d 23h", 601200)


def test_ages_are_decimal_unlike_the_original():
    nine_days = box(idle=9 * DAY)
    assert reason(nine_days, "010d") == "tooRecent"  # the original: octal, 8 days
    assert reason(nine_days, "08d") == "candidate"  # the original: refused
    assert reason(nine_days, "1w") == "candidate"
    assert reason(nine_days, "216h") == "candidate"
    assert reason(nine_days, "217h") == "tooRecent"
    for bad in ["7", "d", "-1d", "1.5d", "7x", "", "7 d"]:
        with pytest.raises(DomainError) as err:
            parse_age(bad)
        assert err.value.reason == "invalidAge"


def test_keep_by_label_by_config_and_released():
    labelled = box(keep_label=True)
    assert reason(labelled) == "keep"
    assert reason(labelled, keep=KeepPolicy(released=frozenset({"app-main"}))) == "candidate"
    assert reason(box(), keep=KeepPolicy(kept=frozenset({"app-main"}))) == "keep"
    assert reason(box(), keep=KeepPolicy(kept=frozenset({"other"}))) == "candidate"


# --------------------------------------------------------------------------- keep sources


@pytest.mark.parametrize(
    ("label", "kept", "released", "source"),
    [
        (False, False, False, "none"),
        (True, False, False, "label"),
        (False, True, False, "config"),
        (True, True, False, "both"),
        (True, False, True, "none"),
        (True, True, True, "config"),
    ],
)
def test_keep_policy_source(label: bool, kept: bool, released: bool, source: str):
    policy = KeepPolicy(
        kept=frozenset({"app-main"} if kept else ()),
        released=frozenset({"app-main"} if released else ()),
    )
    info = box(keep_label=label)
    assert policy.source(info) == source
    assert policy.protects(info) is (source != "none")


def test_keep_records_the_smallest_config_entry():
    assert config_entry(box(), True) is True
    assert config_entry(box(), False) is None
    assert config_entry(box(keep_label=True), True) is None
    assert config_entry(box(keep_label=True), False) is False


# --------------------------------------------------------------------------- images


def test_images_with_our_prefixes_and_no_user_by_id():
    images = [
        ImageInfo("sha256:a", ("containai:latest", "containai:v2"), 10),
        ImageInfo("sha256:b", ("containai-template-default:local",), 20),
        ImageInfo("sha256:c", ("ghcr.io/containai/agent:1",), 30),
        ImageInfo("sha256:d", ("containai:used", "mine:also-used"), 40),
        ImageInfo("sha256:e", ("containai-test-tiny:latest", "mycontainai:x"), 50),
        ImageInfo("sha256:f", ("ghcr.io/novotnyllc/containai:latest",), 60),
        ImageInfo("sha256:g", (), 70),
    ]
    found = select_images(images, {"sha256:d"}, "ctx", "containai:default")
    assert [(i.reference, i.id, i.size_bytes, i.context) for i in found] == [
        ("containai:latest", "sha256:a", 10, "ctx"),
        ("containai:v2", "sha256:a", 10, "ctx"),
        ("containai-template-default:local", "sha256:b", 20, "ctx"),
        ("ghcr.io/containai/agent:1", "sha256:c", 30, "ctx"),
    ]


def test_the_configured_default_image_is_never_a_candidate():
    images = [ImageInfo("sha256:a", ("containai:latest", "containai:old"), 10)]
    found = select_images(images, set(), "ctx", "containai:latest")
    assert [i.reference for i in found] == ["containai:old"]


# --------------------------------------------------------------------------- a removal fault


def test_a_failed_removal_is_reported_and_the_rest_continues(tmp_path: Path):
    """The one fault a real engine will not produce on demand: `docker rm` failing."""
    docker = FakeDocker(tmp_path / "docker")
    engine = docker["default"]
    info = engine.add_container("app-main", state="exited", workspace="/w", idle_s=10 * 86400)
    other = engine.add_container("web-main", state="exited", workspace="/v", idle_s=10 * 86400)
    plan = GcPlan(GcParams(force=True), parse_age("7d"))
    for container in (info, other):
        plan.candidates.append(classify(container, KeepPolicy(), NOW, parse_age("7d"), "7d"))
        plan.scanned[container.id] = container
    engine.faults["remove"] = DomainError("engineError", "device or resource busy")
    result = gc.apply(docker.engine_set(), plan, Hooks())
    assert [c.name for c in result.removed] == ["web-main"]
    assert [(f.kind, f.name, f.message) for f in result.failed] == [
        ("container", "app-main", "device or resource busy")
    ]
    assert [c.kwargs for c in engine.called("remove")] == [{"force": False}] * 2  # never forced
    assert gc_failed(result.wire()) is True


# --------------------------------------------------------------------------- rendering


def _row(name: str, context: str = "default", **extra: Any) -> dict[str, Any]:
    return {"id": f"id-{name}", "name": name, "context": context, **extra}


def test_render_nothing_stale():
    r = {"age": "30d", "candidates": [], "removed": [], "skipped": [], "failed": []}
    assert render_gc(r) == "No stale resources found."
    assert gc_failed(r) is False


def test_render_dry_run_in_the_original_layout():
    r = {
        "age": "7d",
        "dryRun": True,
        "candidates": [
            _row("app-main", state="exited", age="10d 5h"),
            _row("web-dev", "remote", state="created", age="7d 0h"),
        ],
        "images": {"candidates": [{"reference": "containai:old", "context": "default"}]},
    }
    assert render_gc(r).splitlines() == [
        "Stale ContainAI resources (age >= 7d):",
        "",
        "Containers:",
        "  app-main (exited, age: 10d 5h)",
        "  web-dev (created, age: 7d 0h) [context: remote]",
        "",
        "Unused images:",
        "  containai:old",
        "",
        "[DRY-RUN] Would remove 2 container(s) and 1 image(s)",
    ]


def test_render_a_real_run_with_late_skips_and_failures():
    a = _row("a-main", state="exited", age="9d 0h")
    b = _row("b-main", state="exited", age="9d 0h")
    c = _row("c-main", state="exited", age="9d 0h")
    r = {
        "age": "7d",
        "candidates": [a, b, c],
        "removed": [a],
        "skipped": [
            _row("young", reason="tooRecent"),
            _row("b-main", reason="startedSinceScan"),
        ],
        "failed": [
            {"kind": "container", "name": "c-main", "context": "default", "message": "busy"}
        ],
        "images": {"candidates": [], "removed": [], "skipped": []},
    }
    assert render_gc(r).splitlines() == [
        "Stale ContainAI resources (age >= 7d):",
        "",
        "Containers:",
        "  a-main (exited, age: 9d 0h)",
        "  b-main (exited, age: 9d 0h)",
        "  c-main (exited, age: 9d 0h)",
        "",
        "[WARN] Skipping container (now running): b-main",
        "[WARN] Failed to remove container: c-main (busy)",
        "",
        "Removed: 1 container(s), 0 image(s)",
        "Failed: 1 container(s), 0 image(s)",
    ]
    assert gc_failed(r) is True


def test_render_declined_and_unreachable_contexts():
    a = _row("a-main", state="exited", age="9d 0h")
    r = {"age": "7d", "declined": True, "candidates": [a], "removed": []}
    assert render_gc(r).splitlines()[-1] == "Cancelled."
    errors = [{"context": "remote", "message": "not reachable"}]
    assert render_gc({"age": "7d", "candidates": [], "errors": errors}).splitlines() == [
        "[ERROR] context remote: not reachable",
        "No stale resources found.",
    ]


def test_render_keep():
    on = {"containerName": "app-main", "keep": True, "source": "config"}
    assert render_keep(on) == "Kept: app-main is protected from gc (the user config)"
    off = {"containerName": "app-main", "keep": False, "source": "none"}
    assert render_keep(off) == "Not kept: app-main may be removed by gc once stale"

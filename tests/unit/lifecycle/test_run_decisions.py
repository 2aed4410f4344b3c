"""`run`'s decision table, exhaustively: every option combination, every Docker state,
every volume situation; and the smaller decisions around creating a container."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from containai_rpc.engine import ContainerInfo, EngineInfo
from containai_rpc.engine.models import DATA_MOUNT, Mount
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams
from containai_rpc.service.run_decide import (
    Attach,
    Create,
    Preflight,
    Recreate,
    Refusal,
    RunFacts,
    Start,
    cancelled_after_change,
    check_options,
    choose_isolation,
    create_spec,
    decide_run,
    image_missing,
    move_port,
    state_record,
)
from containai_rpc.workspace.config import Settings

DOCKER_STATES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")
WS = "/work/app"


def box(
    state: str = "running", mounted: str | None = "vol", name: str = "app-main"
) -> ContainerInfo:
    mounts = (Mount("volume", DATA_MOUNT, "", mounted),) if mounted else ()
    return ContainerInfo(
        id=f"id-{name}",
        name=name,
        context="default",
        state=state,
        image="containai:old",
        labels={"containai.managed": "true", "containai.workspace": WS},
        mounts=mounts,
    )


def facts(existing: ContainerInfo | None, volume: str = "vol", **extra: Any) -> RunFacts:
    return RunFacts(
        workspace=WS,
        existing=existing,
        name=extra.pop("name", existing.name if existing else "app-main"),
        volume=volume,
        volume_source=extra.pop("volume_source", "user-global"),
        image="containai:latest",
        notes=extra.pop("notes", ()),
    )


# --------------------------------------------------------------------------- options

OPTION_NAMES = ("fresh", "restart", "reset", "container", "workspace", "data_volume")


def _expected_conflict(o: dict[str, bool]) -> str | None:
    """The rules as a table, in the order they are checked."""
    rules = [
        (o["reset"] and (o["fresh"] or o["restart"]), "reset and fresh"),
        (o["reset"] and o["container"], "reset and container"),
        (o["reset"] and o["data_volume"], "reset and dataVolume"),
        (o["container"] and o["workspace"], "container and workspace"),
        (o["container"] and o["data_volume"], "container and dataVolume"),
    ]
    return next((words for hit, words in rules if hit), None)


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=6)))
def test_every_option_combination(flags: tuple[bool, ...]):
    options = dict(zip(OPTION_NAMES, flags, strict=True))
    p = RunParams(
        fresh=options["fresh"],
        restart=options["restart"],
        reset=options["reset"],
        container="app-main" if options["container"] else None,
        workspace=WS if options["workspace"] else None,
        data_volume="vol" if options["data_volume"] else None,
    )
    expected = _expected_conflict(options)
    if expected is None:
        check_options(p)
        return
    with pytest.raises(DomainError) as err:
        check_options(p)
    assert err.value.reason == "conflictingOptions"
    assert err.value.message == f"{expected} are mutually exclusive"


# --------------------------------------------------------------------------- the table

RECREATE_FLAGS: dict[str, dict[str, bool]] = {
    "plain": {},
    "fresh": {"fresh": True},
    "restart": {"restart": True},
    "reset": {"reset": True},
}
VOLUMES = {"same": "vol", "other": "elsewhere", "none": None}
PLAIN: dict[str, type | str] = {
    "running": Attach,
    "exited": Start,
    "created": Start,
    "paused": "unexpectedState",
    "restarting": "unexpectedState",
    "removing": "unexpectedState",
    "dead": "unexpectedState",
}


@pytest.mark.parametrize("state", [None, *DOCKER_STATES])
@pytest.mark.parametrize("flags", list(RECREATE_FLAGS))
@pytest.mark.parametrize("volume", list(VOLUMES))
@pytest.mark.parametrize("explicit", [False, True])
def test_every_state_option_and_volume(state: str | None, flags: str, volume: str, explicit: bool):
    existing = None if state is None else box(state, mounted=VOLUMES[volume])
    options: dict[str, Any] = {**RECREATE_FLAGS[flags], "data_volume": "vol" if explicit else None}
    source = "cli" if explicit else "user-global"
    decided = decide_run(RunParams(**options), facts(existing, volume_source=source))
    if existing is None:
        expected: type | str = Create
    elif flags != "plain":
        expected = Recreate
    elif volume == "none" or (volume == "other" and explicit):
        expected = "volumeMismatch"
    else:
        expected = PLAIN[existing.state]
    if isinstance(expected, str):
        assert isinstance(decided, Refusal) and decided.reason == expected
        assert decided.hint and "fresh" in decided.hint
        return
    assert type(decided) is expected
    assert decided.action == {Create: "create", Recreate: "recreate", Attach: "attach"}.get(
        expected, "start"
    )
    assert decided.container is existing
    mismatched = expected in (Attach, Start) and volume == "other"
    volume_used = "elsewhere" if mismatched else "vol"
    assert (decided.workspace, decided.name, decided.volume) == (WS, "app-main", volume_used)
    assert (decided.mismatch is not None) == mismatched
    assert bool(decided.warnings) == mismatched


def test_refusals_say_what_was_found_and_what_was_asked():
    p = RunParams(data_volume="new")
    mismatch = decide_run(p, facts(box(mounted="old"), volume="new", volume_source="cli"))
    assert mismatch == Refusal(
        "volumeMismatch",
        "Data volume mismatch: container 'app-main' is running with 'old', 'new' (cli) was "
        "requested. Volume mismatch prevents attachment.",
        "A fresh run recreates the container on the requested volume (the current volume is kept).",
    )
    stopped = decide_run(p, facts(box("exited", mounted="old"), volume="new"))
    assert isinstance(stopped, Refusal)
    assert stopped.message.endswith("Volume mismatch prevents start.")
    unmounted = decide_run(RunParams(), facts(box(mounted=None)))
    assert isinstance(unmounted, Refusal) and "'<none>'" in unmounted.message
    paused = decide_run(RunParams(), facts(box("paused")))
    assert isinstance(paused, Refusal)
    assert paused.message == "Unexpected container state: paused (app-main)"
    assert paused.error().reason == "unexpectedState"


def test_only_a_create_carries_what_it_left_alone():
    notes = ("Container name 'app-main' is taken …",)
    created = decide_run(RunParams(), facts(None, name="app-main-2", notes=notes))
    assert isinstance(created, Create)
    assert (created.name, created.warnings) == ("app-main-2", notes)
    started = decide_run(RunParams(), facts(box("exited"), notes=notes))
    assert started.warnings == ()


def test_a_taken_port_turns_a_start_into_a_recreate_that_says_so():
    start = decide_run(RunParams(), facts(box("exited")))
    assert isinstance(start, Start)
    assert move_port(start, None) is start
    moved = move_port(start, 2301)
    assert isinstance(moved, Recreate) and moved.existing is start.existing
    assert moved.warnings == (
        "SSH port 2301 is in use by another process: container app-main was recreated "
        "with a new port (its data volume is kept)",
    )


# --------------------------------------------------------------------------- creating


@pytest.mark.parametrize("sysbox", [True, False])
@pytest.mark.parametrize("allowed", [True, False])
def test_isolation(sysbox: bool, allowed: bool):
    chosen = choose_isolation(sysbox, allowed, "ctx")
    if sysbox:
        assert chosen == ("sysbox-runc", False)
    elif allowed:
        assert chosen == ("runc", True)
    else:
        assert isinstance(chosen, Refusal) and chosen.reason == "isolationUnavailable"
        assert "context 'ctx'" in chosen.message
        assert chosen.hint and "allowReducedIsolation" in chosen.hint


def test_a_missing_image_names_the_image_and_the_context():
    missing = image_missing("containai:nope", "ctx")
    assert (missing.reason, missing.message) == (
        "imageNotFound",
        "Image not found: containai:nope (context ctx)",
    )


ENGINE = EngineInfo("ctx", "unix://", "27", "1.47", ("runc",), "6.1", ncpu=8, mem_total=16 * 2**30)


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("port", [None, 2300])
@pytest.mark.parametrize("reduced", [False, True])
def test_create_spec(keep: bool, port: int | None, reduced: bool):
    plan = Create(workspace=WS, name="app-main", volume="vol", volume_source="cli", image="img")
    ready = Preflight({}, "runc" if reduced else "sysbox-runc", reduced)
    spec = create_spec(plan, RunParams(keep=keep), Settings(), ready, ENGINE, port=port, tz="UTC")
    expected = {"containai.managed": "true", "containai.workspace": WS}
    expected["containai.data-volume"] = "vol"
    if keep:
        expected["containai.keep"] = "true"
    if port is not None:
        expected["containai.ssh-port"] = str(port)
    assert spec.labels == expected
    assert (spec.name, spec.hostname, spec.image, spec.ssh_port) == (
        "app-main",
        "app-main",
        "img",
        port,
    )
    assert (spec.runtime, spec.reduced_isolation) == (ready.runtime, reduced)
    assert (spec.memory, spec.cpus) == ("8g", 4.0)  # half the engine by default
    assert spec.environment == {"CAI_HOST_WORKSPACE": WS, "TZ": "UTC"}


def test_configured_limits_and_small_engines():
    plan = Create(workspace=WS, name="n", volume="v", volume_source="cli", image="img")
    ready = Preflight({"containai.image.ssh": "false"}, "runc", True)
    assert not ready.wants_ssh and Preflight({}, "runc", True).wants_ssh
    small = EngineInfo("c", "u", "1", "1", (), "6", ncpu=1, mem_total=2**30)
    spec = create_spec(plan, RunParams(), Settings(), ready, small, port=None, tz="UTC")
    assert (spec.memory, spec.cpus) == ("2g", 1.0)
    limited = Settings(memory="3g", cpus=1.5)
    spec = create_spec(plan, RunParams(), limited, ready, small, port=None, tz="UTC")
    assert (spec.memory, spec.cpus) == ("3g", 1.5)


# --------------------------------------------------------------------------- afterwards

NOW = datetime(2025, 6, 1, 12, 30, 45, tzinfo=UTC)
SOURCES = ["cli", "env", f"workspace:{WS}", "workspace:/work", "repo-local", "user-global"]


@pytest.mark.parametrize("reset", [False, True])
@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize("source", [*SOURCES, "default", "reset"])
@pytest.mark.parametrize("from_env", [False, True])
def test_what_the_workspace_state_records(reset: bool, explicit: bool, source: str, from_env: bool):
    plan = Create(workspace=WS, name="app-main", volume="vol", volume_source=source, image="i")
    p = RunParams(reset=reset, data_volume="vol" if explicit and not reset else None)
    values = state_record(plan, p, volume_from_env=from_env, now=NOW, context="far")
    expected: dict[str, str | None] = {"container_name": "app-main", "context": "far"}
    if reset:
        expected.update(data_volume="vol", created_at="2025-06-01T12:30:45Z")
    elif p.data_volume or (source not in (f"workspace:{WS}", "repo-local") and not from_env):
        expected["data_volume"] = "vol"  # a repository's choice sticks only when approved
    assert values == expected


@pytest.mark.parametrize(("plan_type", "done"), [(Create, "created"), (Start, "started")])
def test_a_cancel_past_the_point_of_no_return_says_what_was_done(plan_type: type, done: str):
    extra = {"existing": box()} if plan_type is Start else {}
    plan = plan_type(
        workspace=WS, name="app-main", volume="v", volume_source="cli", image="i", **extra
    )
    assert cancelled_after_change(plan) == (
        f"Cancelled after container app-main was {done}: it is left as it is (not verified); "
        "run again to verify it"
    )

"""A container labelled `containai.managed=true` but missing a label `run` always sets
(`containai.workspace`, `containai.data-volume`) is foreign: every operation refuses it
with `notManaged`, naming the missing label, and leaves it exactly where it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from containai_rpc.engine import ContainerInfo
from containai_rpc.errors import DomainError
from containai_rpc.protocol.gc import GcParams, KeepParams
from containai_rpc.protocol.models import RunParams, StatusParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import Hooks, Service
from containai_rpc.workspace.state import update_workspace_state
from tests.support.fake_engine import FakeDocker, FakeEngine

MISSING = {
    "containai.workspace": {"workspace": None},
    "containai.data-volume": {"workspace": "/w", "volume": None},
}


@pytest.fixture(params=sorted(MISSING))
def missing(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def engine(fake_docker: FakeDocker, missing: str) -> FakeEngine:
    engine = fake_docker["default"]
    engine.add_container("odd", state="exited", idle_s=90 * 86400, **MISSING[missing])
    return engine


def refused(call: Callable[[], Any], missing: str) -> DomainError:
    with pytest.raises(DomainError) as err:
        call()
    assert err.value.reason == "notManaged"
    assert missing in err.value.message and "odd" in err.value.message
    return err.value


def untouched(engine: FakeEngine) -> None:
    info = engine.by_name("odd")
    assert info is not None and info.state == "exited"


def test_the_predicate(missing: str):
    labels = {"containai.managed": "true", "containai.workspace": "/w"}
    labels["containai.data-volume"] = "v"
    whole = ContainerInfo("id", "n", "default", "running", "img", labels)
    assert whole.is_ours and whole.missing_label is None and whole.foreign_because() is None
    cut = ContainerInfo("id", "n", "default", "running", "img", {**labels, missing: ""})
    assert not cut.is_ours and cut.missing_label == missing
    assert missing in (cut.foreign_because() or "")
    unmanaged = ContainerInfo("id", "n", "default", "running", "img", {})
    assert not unmanaged.is_ours and unmanaged.foreign_because() == "is not managed by ContainAI"


@pytest.mark.parametrize("remove", [False, True])
def test_stop_by_name(fake_service: Service, engine: FakeEngine, missing: str, remove: bool):
    refused(lambda: fake_service.stop(StopParams(container="odd", remove=remove)), missing)
    untouched(engine)
    assert not engine.called("remove") and not engine.called("stop")


def test_stop_all_leaves_it_alone_and_says_so(
    fake_service: Service, engine: FakeEngine, missing: str
):
    engine.add_container("mine", workspace="/mine")
    done = fake_service.stop(StopParams(all=True, remove=True))
    outcomes = {r.container_name: r for r in done.results}
    assert outcomes["mine"].action == "removed"
    assert outcomes["odd"].action == "notManaged"
    assert missing in (outcomes["odd"].message or "")
    untouched(engine)


def test_stop_and_status_by_workspace_state(
    fake_service: Service, engine: FakeEngine, missing: str, workspaces
):
    ws = str(workspaces("app"))
    update_workspace_state(ws, container_name="odd")
    refused(lambda: fake_service.stop(StopParams(workspace=ws, remove=True)), missing)
    refused(lambda: fake_service.status(StatusParams(workspace=ws)), missing)
    untouched(engine)


def test_status(fake_service: Service, engine: FakeEngine, missing: str):
    refused(lambda: fake_service.status(StatusParams(container="odd")), missing)


@pytest.mark.parametrize("keep", [False, True])
def test_keep(fake_service: Service, engine: FakeEngine, missing: str, keep: bool):
    refused(lambda: fake_service.keep(KeepParams(container="odd", keep=keep)), missing)


@pytest.mark.parametrize("flag", ["none", "fresh"])
def test_run_and_fresh(fake_service: Service, engine: FakeEngine, missing: str, flag: str):
    extra = {} if flag == "none" else {flag: True}
    refused(lambda: fake_service.run(RunParams(container="odd", **extra)), missing)
    untouched(engine)
    assert not engine.called("remove") and not engine.called("start")


def test_gc_skips_it(fake_service: Service, engine: FakeEngine, missing: str):
    engine.add_container("old", workspace="/old", state="exited", idle_s=90 * 86400)
    done = fake_service.gc(GcParams(force=True), Hooks())
    assert [c.name for c in done.removed] == ["old"]
    assert [(s.name, s.reason) for s in done.skipped] == [("odd", "notManaged")]
    untouched(engine)

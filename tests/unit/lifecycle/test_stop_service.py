"""`stop` over in-memory engines: session gating (confirm, refuse with
`confirmationRequired`, force), removal and what goes with it, finding the target."""

from __future__ import annotations

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import Hooks, Service
from containai_rpc.workspace.state import kept_containers, set_keep, update_workspace_state
from tests.support.fake_engine import FakeDocker, FakeEngine


def answering(answer: str | None, asked: list[tuple[str, list[str]]]) -> Hooks:
    def confirm(message: str, actions: list[str]) -> str | None:
        asked.append((message, actions))
        return answer

    return Hooks(confirm=confirm)


@pytest.fixture
def engine(fake_docker: FakeDocker) -> FakeEngine:
    engine = fake_docker["default"]
    engine.add_container("app-main", workspace="/w")
    return engine


def state(engine: FakeEngine) -> str:
    info = engine.by_name("app-main")
    return info.state if info else "removed"


def test_active_sessions_without_a_client_that_can_confirm(fake_service: Service, engine):
    engine.sessions[engine.by_name("app-main").id] = (1, 0)
    with pytest.raises(DomainError) as err:
        fake_service.stop(StopParams(container="app-main"))
    assert err.value.reason == "confirmationRequired"
    assert err.value.hint and "force: true" in err.value.hint
    assert state(engine) == "running"


@pytest.mark.parametrize("remove", [False, True])
def test_active_sessions_confirmed(fake_service: Service, engine, remove: bool):
    engine.sessions[engine.by_name("app-main").id] = (0, 2)
    asked: list[tuple[str, list[str]]] = []
    verb = "Remove" if remove else "Stop"
    done = fake_service.stop(
        StopParams(container="app-main", remove=remove), answering(verb, asked)
    )
    assert asked == [
        (f"Container 'app-main' may have active sessions. {verb} anyway?", [verb, "Cancel"])
    ]
    outcome = done.results[0]
    assert (outcome.action, outcome.sessions) == ("removed" if remove else "stopped", "yes")
    assert state(engine) == ("removed" if remove else "exited")


def test_active_sessions_declined(fake_service: Service, engine):
    engine.sessions[engine.by_name("app-main").id] = (2, 0)
    done = fake_service.stop(StopParams(container="app-main"), answering(None, []))
    assert [(r.action, r.sessions) for r in done.results] == [("declined", "yes")]
    assert state(engine) == "running"


def test_force_never_asks_nor_counts(fake_service: Service, engine):
    engine.sessions[engine.by_name("app-main").id] = (5, 5)
    done = fake_service.stop(StopParams(container="app-main", force=True))
    assert [(r.action, r.sessions) for r in done.results] == [("stopped", None)]
    assert not engine.called("exec")


@pytest.mark.parametrize(("counts", "sessions"), [((0, 1), "no"), (None, "unknown")])
def test_no_or_unknown_sessions_go_ahead(fake_service: Service, engine, counts, sessions):
    engine.sessions[engine.by_name("app-main").id] = counts
    done = fake_service.stop(StopParams(container="app-main"))
    assert [(r.action, r.sessions) for r in done.results] == [("stopped", sessions)]


def test_already_stopped_is_not_probed(fake_service: Service, engine):
    engine.stop(engine.by_name("app-main").id)
    done = fake_service.stop(StopParams(container="app-main"))
    assert [(r.action, r.sessions) for r in done.results] == [("alreadyStopped", None)]
    assert not engine.called("exec")


def test_remove_keeps_the_volume_and_forgets_the_keep_record(fake_service: Service, engine):
    set_keep("app-main", True)
    done = fake_service.stop(StopParams(container="app-main", remove=True, force=True))
    assert [r.action for r in done.results] == ["removed"]
    assert engine.by_name("app-main") is None
    assert kept_containers() == set()
    assert [c.kwargs for c in engine.called("remove")] == [{"force": True}]


def test_by_workspace(fake_service: Service, engine, workspaces):
    ws = workspaces("app")
    engine.add_container("app-nogit", workspace=str(ws))
    done = fake_service.stop(StopParams(workspace=str(ws), force=True))
    assert [(r.container_name, r.action) for r in done.results] == [("app-nogit", "stopped")]


def test_by_workspace_when_the_state_names_something_else(
    fake_service: Service, engine, workspaces
):
    ws = workspaces("app")
    update_workspace_state(str(ws), container_name="gone")
    done = fake_service.stop(StopParams(workspace=str(ws)))
    assert [(r.container_name, r.action, r.message) for r in done.results] == [
        ("gone", "notFound", "Container from workspace state not found: gone")
    ]
    update_workspace_state(str(ws), container_name="app-main")  # labelled for /w
    with pytest.raises(DomainError) as err:
        fake_service.stop(StopParams(workspace=str(ws)))
    assert err.value.reason == "workspaceMismatch"
    engine.add_container("stranger", managed=False)
    update_workspace_state(str(ws), container_name="stranger")
    with pytest.raises(DomainError) as err:
        fake_service.stop(StopParams(workspace=str(ws)))
    assert err.value.reason == "notManaged"
    update_workspace_state(str(ws), container_name=None)
    with pytest.raises(DomainError) as err:
        fake_service.stop(StopParams(workspace=str(ws)))
    assert err.value.reason == "containerNotFound"


def test_a_stranger_by_name_is_never_touched(fake_service: Service, engine):
    engine.add_container("foreign", managed=False)
    for params in (StopParams(container="foreign", force=True), StopParams(container="nope")):
        with pytest.raises(DomainError) as err:
            fake_service.stop(params)
        assert err.value.reason in ("notManaged", "containerNotFound")
    assert engine.by_name("foreign").running


def test_stop_all_only_managed_and_failures_do_not_stop_the_rest(fake_service: Service, engine):
    engine.add_container("second", workspace="/v")
    engine.add_container("foreign", managed=False)
    engine.faults["stop"] = DomainError("engineError", "cannot stop")
    done = fake_service.stop(StopParams(all=True))
    assert [(r.container_name, r.action, r.message) for r in done.results] == [
        ("app-main", "failed", "cannot stop"),  # the fault hits the first stop only
        ("second", "stopped", None),
    ]
    assert engine.by_name("foreign").running


def test_a_container_replaced_meanwhile_is_reported_not_acted_on(
    fake_service: Service, engine, monkeypatch
):
    from containai_rpc.service import stop as stop_module

    real = stop_module.locked

    def locked_then_gone(key: str):  # another process removed it while we waited
        engine.remove(engine.by_name("app-main").id, force=True)
        return real(key)

    monkeypatch.setattr(stop_module, "locked", locked_then_gone)
    done = fake_service.stop(StopParams(container="app-main", force=True))
    assert [(r.action, r.message) for r in done.results] == [
        ("notFound", "Container app-main went away meanwhile")
    ]

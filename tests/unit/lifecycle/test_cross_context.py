"""A workspace's container, or a named one, is looked for in every context we manage, not
only the selected one; a new container goes to the selected (or requested) context; the
workspace state records the context; found in two contexts is ambiguous."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams, StatusParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import Service
from containai_rpc.workspace.config import DEFAULT_IMAGE
from containai_rpc.workspace.state import user_config_path
from tests.support.fake_engine import FAKE_NOW, FakeDocker


@pytest.fixture
def docker(tmp_path: Path) -> FakeDocker:
    """Two contexts with Sysbox and the image: `default` (selected) and `far`."""
    found = FakeDocker(tmp_path / "docker", contexts=())
    for name in ("default", "far"):
        engine = found.add_context(name, runtimes=("runc", "sysbox-runc"))
        engine.add_image(DEFAULT_IMAGE, {"containai.image.ssh": "false"})
    return found


@pytest.fixture
def service(isolated_home: Path, docker: FakeDocker) -> Iterator[Service]:
    service = Service(docker.engine_set(extra=["far"]), clock=lambda: FAKE_NOW)
    yield service
    service.close()


def state_of(workspace: Path) -> dict[str, object]:
    return tomllib.loads(user_config_path().read_text())["workspace"][str(workspace)]


def changes(docker: FakeDocker, context: str) -> list[str]:
    return [c.method for c in docker[context].calls if c.method in ("create", "start", "remove")]


def test_run_by_name_attaches_in_the_other_context(
    service: Service, docker: FakeDocker, workspaces
):
    ws = workspaces("app")
    docker["far"].add_container("box", workspace=str(ws))
    ran = service.run(RunParams(container="box"))
    assert (ran.action, ran.context, ran.container_name) == ("attach", "far", "box")
    assert changes(docker, "default") == [] and docker["default"].names() == []
    assert state_of(ws) == {
        "container_name": "box",
        "data_volume": "containai-data",
        "context": "far",
    }


def test_run_by_workspace_finds_it_in_the_other_context(
    service: Service, docker: FakeDocker, workspaces
):
    ws = workspaces("app")
    info = docker["far"].add_container("app-nogit", workspace=str(ws), state="exited")
    ran = service.run(RunParams(workspace=str(ws)))
    assert (ran.action, ran.context) == ("start", "far")
    assert docker["default"].names() == [] and changes(docker, "default") == []
    assert state_of(ws)["context"] == "far"
    status = service.status(StatusParams(workspace=str(ws)))
    assert (status.name, status.context) == ("app-nogit", "far")
    [stopped] = service.stop(StopParams(workspace=str(ws))).results
    assert (stopped.container_name, stopped.context, stopped.action) == (
        "app-nogit",
        "far",
        "stopped",
    )
    assert docker["far"].by_name("app-nogit").id == info.id  # type: ignore[union-attr]


def test_a_new_container_goes_to_the_selected_or_requested_context(
    service: Service, docker: FakeDocker, workspaces
):
    here, there = workspaces("here"), workspaces("there")
    assert service.run(RunParams(workspace=str(here))).context == "default"
    assert service.run(RunParams(workspace=str(there), context="far")).context == "far"
    assert state_of(there)["context"] == "far"
    assert service.run(RunParams(workspace=str(there))).action == "attach"
    assert service.run(RunParams(container="fresh-one")).context == "default"


def test_run_on_a_context_without_the_workspace_container_refuses_a_second_one(
    service: Service, docker: FakeDocker, workspaces
):
    """The workspace's container is on far: a run naming default would make a second
    container of the workspace (and leave its data volume behind on far)."""
    ws = workspaces("app")
    docker["far"].add_container("app-nogit", workspace=str(ws))
    with pytest.raises(DomainError) as err:
        service.run(RunParams(workspace=str(ws), context="default"))
    assert err.value.reason == "contextMismatch"
    assert err.value.details == {"workspace": str(ws), "context": "far", "container": "app-nogit"}
    assert changes(docker, "default") == [] and changes(docker, "far") == []
    ran = service.run(RunParams(workspace=str(ws)))  # without a context: the one on far
    assert (ran.action, ran.context) == ("attach", "far")


def test_containers_in_two_contexts_are_ambiguous(service: Service, docker: FakeDocker, workspaces):
    ws = workspaces("app")
    docker["default"].add_container("box", workspace=str(ws))
    docker["far"].add_container("box", workspace=str(ws))
    for p in (RunParams(container="box"), RunParams(workspace=str(ws))):
        with pytest.raises(DomainError) as err:
            service.run(p)
        assert err.value.reason == "ambiguousContainer"
        assert "exist" in err.value.message and "default" in err.value.message
    with pytest.raises(DomainError) as err:
        service.stop(StopParams(workspace=str(ws)))
    assert err.value.reason == "ambiguousContainer"
    assert changes(docker, "default") == [] and changes(docker, "far") == []


def test_the_state_entry_wins_over_a_label_elsewhere(
    service: Service, docker: FakeDocker, workspaces
):
    ws = workspaces("app")
    docker["default"].add_container("mine", workspace=str(ws))
    docker["far"].add_container("other", workspace=str(ws))
    user_config_path().parent.mkdir(parents=True, exist_ok=True)
    user_config_path().write_text(
        f'[workspace."{ws}"]\ncontainer_name = "other"\ncontext = "far"\n'
    )
    ran = service.run(RunParams(workspace=str(ws)))
    assert (ran.container_name, ran.context) == ("other", "far")


def test_an_unreachable_other_context_does_not_hide_the_selected_one(
    service: Service, docker: FakeDocker, workspaces
):
    ws = workspaces("app")
    docker.unreachable.add("far")
    ran = service.run(RunParams(workspace=str(ws)))
    assert (ran.action, ran.context) == ("create", "default")
    assert service.run(RunParams(workspace=str(ws))).action == "attach"


def test_an_unreachable_recorded_context_is_the_answer(
    service: Service, docker: FakeDocker, workspaces
):
    ws = workspaces("app")
    assert service.run(RunParams(workspace=str(ws), context="far")).context == "far"
    docker.unreachable.add("far")
    service.engines.forget("far")
    with pytest.raises(DomainError) as err:
        service.run(RunParams(workspace=str(ws)))
    assert err.value.reason == "engineUnavailable"
    assert docker["default"].names() == []  # no second container behind its back


def test_run_of_a_name_on_another_context_than_where_it_exists_is_refused(
    service: Service, docker: FakeDocker, workspaces
):
    ws = workspaces("app")
    docker["far"].add_container("box", workspace=str(ws))
    with pytest.raises(DomainError) as err:
        service.run(RunParams(container="box", context="default", workspace=None))
    assert err.value.reason == "contextMismatch"
    assert "Container box already exists on context 'far'" in err.value.message
    assert docker["default"].names() == [] and changes(docker, "default") == []

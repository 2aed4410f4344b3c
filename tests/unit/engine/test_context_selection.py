"""Which context a request goes to: the selection rules of `EngineSet` (with the docker
CLI's context store in a private DOCKER_CONFIG) and the service's routing over them,
with in-memory engines behind the real `EngineSet`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import ListParams, RunParams, StatusParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import Service
from containai_rpc.workspace.config import DEFAULT_IMAGE
from tests.support.fake_engine import FakeDocker


@pytest.fixture
def docker(tmp_path: Path) -> FakeDocker:
    return FakeDocker(tmp_path / "docker", contexts=("default", "containai-docker", "remote"))


# --------------------------------------------------------------------------- selection


def test_a_configured_context_wins(docker: FakeDocker):
    engines = docker.engine_set(configured="remote")
    assert engines.default_context() == "remote"
    assert engines.managed_contexts() == ["remote", "containai-docker"]


def test_containai_docker_when_it_exists_else_the_current_context(tmp_path: Path):
    with_secure = FakeDocker(tmp_path / "a", contexts=("default", "containai-docker"))
    assert with_secure.engine_set().default_context() == "containai-docker"
    plain = FakeDocker(tmp_path / "b", contexts=("default", "remote"))
    assert plain.engine_set().default_context() == "default"
    assert plain.engine_set(env={"DOCKER_CONTEXT": "remote"}).default_context() == "remote"
    (tmp_path / "b" / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert plain.engine_set().default_context() == "remote"


def test_docker_host_set_for_this_process_skips_containai_docker(docker: FakeDocker):
    engines = docker.engine_set(env={"DOCKER_HOST": "unix:///elsewhere.sock"})
    assert engines.default_context() == "default"
    assert engines.managed_contexts() == ["default"]


def test_configured_contexts_replace_the_secure_one_in_the_managed_list(docker: FakeDocker):
    engines = docker.engine_set(extra=["remote", "default"])
    assert engines.default_context() == "containai-docker"
    assert engines.managed_contexts() == ["containai-docker", "remote", "default"]


def test_an_unknown_context_is_contextnotfound(docker: FakeDocker):
    with pytest.raises(DomainError) as err:
        docker.engine_set().get("nowhere")
    assert err.value.reason == "contextNotFound"


def test_each_reports_an_unreachable_context_without_hiding_the_others(docker: FakeDocker):
    docker.unreachable.add("remote")
    engines = docker.engine_set(extra=["remote", "default"])
    found = dict(engines.each(engines.managed_contexts(), lambda e: e.context))
    assert found["containai-docker"] == "containai-docker"
    assert found["default"] == "default"
    assert isinstance(found["remote"], DomainError)
    assert found["remote"].reason == "engineUnavailable"


# --------------------------------------------------------------------------- routing


@pytest.fixture
def service(isolated_home: Path, docker: FakeDocker) -> Service:
    for engine in docker.engines.values():
        engine.runtimes = ("runc", "sysbox-runc")
        engine.add_image(DEFAULT_IMAGE, {"containai.image.ssh": "false"})
    return Service(docker.engine_set(extra=["remote"]))


def test_run_goes_to_the_selected_context_or_the_requested_one(
    service: Service, docker: FakeDocker, workspaces
):
    here = service.run(RunParams(workspace=str(workspaces("here"))))
    there = service.run(RunParams(workspace=str(workspaces("there")), context="remote"))
    assert (here.context, there.context) == ("containai-docker", "remote")
    assert docker["containai-docker"].names() == ["here-nogit"]
    assert docker["remote"].names() == ["there-nogit"]
    assert docker["default"].names() == []  # not managed: never touched


def test_a_name_is_looked_up_in_every_managed_context(
    service: Service, docker: FakeDocker, workspaces
):
    service.run(RunParams(workspace=str(workspaces("far")), context="remote"))
    found = service.status(StatusParams(container="far-nogit"))
    assert (found.name, found.context) == ("far-nogit", "remote")
    stopped = service.stop(StopParams(container="far-nogit", force=True))
    assert [(r.container_name, r.context, r.action) for r in stopped.results] == [
        ("far-nogit", "remote", "stopped")
    ]


def test_a_name_in_two_contexts_is_ambiguous_unless_a_context_is_given(
    service: Service, docker: FakeDocker
):
    for context in ("containai-docker", "remote"):
        docker[context].add_container("twin", workspace="/w")
    with pytest.raises(DomainError) as err:
        service.status(StatusParams(container="twin"))
    assert err.value.reason == "ambiguousContainer"
    assert "containai-docker, remote" in err.value.message
    assert service.status(StatusParams(container="twin", context="remote")).context == "remote"


def test_the_selected_context_down_is_the_answer_for_a_name_found_nowhere(
    service: Service, docker: FakeDocker
):
    docker.unreachable.add("containai-docker")
    with pytest.raises(DomainError) as err:
        service.status(StatusParams(container="ghost"))
    assert err.value.reason == "engineUnavailable"
    docker.unreachable.clear()
    with pytest.raises(DomainError) as err:
        service.status(StatusParams(container="ghost"))
    assert err.value.reason == "containerNotFound"


def test_list_and_stop_all_cover_every_managed_context(service: Service, docker: FakeDocker):
    docker["containai-docker"].add_container("a", workspace="/a")
    docker["remote"].add_container("b", workspace="/b")
    docker["default"].add_container("c", workspace="/c")  # not a managed context
    listed = service.list(ListParams())
    assert [(c.context, c.name) for c in listed.containers] == [
        ("containai-docker", "a"),
        ("remote", "b"),
    ]
    docker.unreachable.add("remote")
    docker["remote"].down = DomainError("engineUnavailable", "remote is down")
    stopped = service.stop(StopParams(all=True))
    assert [(r.context, r.container_name, r.action) for r in stopped.results] == [
        ("containai-docker", "a", "stopped"),
        ("remote", "*", "failed"),
    ]

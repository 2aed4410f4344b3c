"""`run` end to end over in-memory engines: facts gathered, plan carried out, state
recorded, answers as the protocol has them — in milliseconds, without Docker."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams
from containai_rpc.service import Hooks, Service
from containai_rpc.workspace.state import set_keep, user_config_path
from tests.support.fake_engine import FakeDocker


def state_of(workspace: Path) -> dict[str, object]:
    data = tomllib.loads(user_config_path().read_text())
    return data["workspace"][str(workspace)]


def test_create_then_attach_then_start(fake_service: Service, fake_docker: FakeDocker, workspaces):
    engine = fake_docker["default"]
    ws = workspaces("app")
    created = fake_service.run(RunParams(workspace=str(ws)))
    assert (created.action, created.container_name, created.state) == (
        "create",
        "app-nogit",
        "running",
    )
    assert (created.data_volume, created.data_volume_source) == ("containai-data", "default")
    assert created.isolation == "sysbox" and created.ssh is None and created.warnings is None
    info = engine.by_name("app-nogit")
    assert info is not None and info.running and info.workspace == str(ws)
    assert state_of(ws) == {
        "container_name": "app-nogit",
        "data_volume": "containai-data",
        "context": "default",
    }

    attached = fake_service.run(RunParams(workspace=str(ws)))
    assert (attached.action, attached.container is not None) == ("attach", True)
    engine.stop(info.id)
    started = fake_service.run(RunParams(workspace=str(ws)))
    assert (started.action, started.state) == ("start", "running")
    assert engine.names() == ["app-nogit"]


def test_a_dry_run_changes_nothing(fake_service: Service, fake_docker: FakeDocker, workspaces):
    engine = fake_docker["default"]
    plan = fake_service.run(RunParams(workspace=str(workspaces("app")), dry_run=True))
    assert (plan.action, plan.container_name, plan.state, plan.dry_run) == (
        "create",
        "app-nogit",
        "absent",
        True,
    )
    assert not [c for c in engine.calls if c.method in ("create", "start", "remove", "stop")]
    assert not user_config_path().exists()


def test_fresh_recreates_on_the_same_volume_and_reset_on_a_new_one(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    first = fake_service.run(RunParams(workspace=str(ws), data_volume="precious"))
    fresh = fake_service.run(RunParams(workspace=str(ws), fresh=True))
    assert (fresh.action, fresh.container_name, fresh.data_volume) == (
        "recreate",
        "app-nogit",
        "precious",
    )
    assert fresh.container is not None and first.container is not None
    assert fresh.container.id != first.container.id
    reset = fake_service.run(RunParams(workspace=str(ws), reset=True))
    assert reset.action == "recreate" and reset.data_volume.startswith("app-nogit-")
    assert state_of(ws)["data_volume"] == reset.data_volume
    assert state_of(ws)["created_at"] == "2025-06-01T12:00:00Z"  # the service clock
    assert {"precious", reset.data_volume} <= engine.volumes  # no volume ever removed
    assert engine.names() == ["app-nogit"]


def test_a_fresh_that_cannot_create_removes_nothing(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    fake_service.run(RunParams(workspace=str(ws)))
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(ws), fresh=True, image="containai:missing"))
    assert err.value.reason == "imageNotFound"
    engine.runtimes = ("runc",)
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(ws), fresh=True))
    assert err.value.reason == "isolationUnavailable"
    assert engine.names() == ["app-nogit"] and not engine.called("remove")
    reduced = fake_service.run(
        RunParams(workspace=str(ws), fresh=True, allow_reduced_isolation=True)
    )
    assert (reduced.action, reduced.isolation) == ("recreate", "runc-reduced")


def test_refusals_leave_the_container_alone(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    fake_service.run(RunParams(workspace=str(ws)))
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(ws), data_volume="other"))
    assert err.value.reason == "volumeMismatch"
    engine.set_state("app-nogit", "paused")
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(ws)))
    assert err.value.reason == "unexpectedState"
    assert fake_service.run(RunParams(workspace=str(ws), fresh=True)).action == "recreate"


def test_never_another_workspaces_container_nor_a_strangers(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    engine.add_container("app-nogit", workspace="/somewhere/else/app")
    engine.add_container("app-nogit-2", managed=False)
    engine.add_container("imposter", managed=False, workspace=str(ws))
    created = fake_service.run(RunParams(workspace=str(ws)))
    assert (created.action, created.container_name) == ("create", "app-nogit-3")
    assert created.warnings == [
        "Container name 'app-nogit' is taken by a container that belongs to workspace "
        "/somewhere/else/app: left alone, this workspace uses 'app-nogit-3'",
        "Container name 'app-nogit-2' is taken by a container that is not managed by "
        "ContainAI: left alone, this workspace uses 'app-nogit-3'",
        "Container 'imposter' is labelled for this workspace but is not managed by "
        "ContainAI: left alone",
    ]
    assert fake_service.run(RunParams(workspace=str(ws))).container_name == "app-nogit-3"


def test_a_named_container(fake_service: Service, fake_docker: FakeDocker, workspaces, monkeypatch):
    engine = fake_docker["default"]
    ws = workspaces("app")
    monkeypatch.chdir(ws)
    made = fake_service.run(RunParams(container="mine"))
    assert (made.action, made.workspace) == ("create", str(ws))
    engine.add_container("stranger", managed=False)
    engine.add_container("half", workspace=None)
    for name, reason in (("stranger", "notManaged"), ("half", "notManaged")):
        with pytest.raises(DomainError) as err:
            fake_service.run(RunParams(container=name))
        assert err.value.reason == reason and name in err.value.message


def test_a_stopped_container_whose_port_was_taken_is_recreated(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    engine.add_container("app-nogit", state="exited", workspace=str(ws), port=2399)
    engine.add_container("other", workspace="/other", port=2399)  # running, publishing it
    moved = fake_service.run(RunParams(workspace=str(ws)))
    assert moved.action == "recreate"
    assert moved.warnings == [
        "SSH port 2399 is in use by another process: container app-nogit was recreated "
        "with a new port (its data volume is kept)"
    ]


def test_a_cancel_past_the_point_of_no_return_gives_the_result(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    ws = workspaces("app")
    cancel = [False]

    def progress(message: str) -> None:
        cancel[0] = cancel[0] or message.startswith("Starting container")

    hooks = Hooks(progress=progress, cancelled=lambda: cancel[0])
    ran = fake_service.run(RunParams(workspace=str(ws)), hooks)
    assert ran.action == "create" and ran.state == "running"
    assert ran.warnings is not None and "was created: it is left as it is" in ran.warnings[-1]
    assert fake_docker["default"].by_name("app-nogit") is not None
    assert state_of(ws)["container_name"] == "app-nogit"  # it is the workspace's now


def test_a_container_that_exits_at_once_fails_to_start(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    fake_docker["default"].exits_on_start.add("app-nogit")
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(workspaces("app"))))
    assert err.value.reason == "startFailed"


def test_keep_at_creation_wins_over_a_stale_release(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    set_keep("app-nogit", False)  # released, for an older container of that name
    kept = fake_service.run(RunParams(workspace=str(workspaces("app")), keep=True))
    assert kept.container is not None and kept.container.keep is True
    info = fake_docker["default"].by_name("app-nogit")
    assert info is not None and info.keep_label

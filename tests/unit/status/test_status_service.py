"""`status` (and `keep`) over in-memory engines: one read of the user config per request,
the best-effort parts only for a running container, uptime from the service clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.gc import KeepParams
from containai_rpc.protocol.models import StatusParams
from containai_rpc.service import Service
from containai_rpc.workspace import state as state_module
from containai_rpc.workspace.state import update_workspace_state, user_config_path
from tests.support.fake_engine import FakeDocker, FakeEngine


@pytest.fixture
def config_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[Path]]:
    """How often each file is read by the user-config loader."""
    reads: Counter[Path] = Counter()
    real = state_module.read_text

    def counting(path: Path, *args: Any, **kwargs: Any) -> Any:
        reads[path] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(state_module, "read_text", counting)
    yield reads


@pytest.fixture
def engine(fake_docker: FakeDocker) -> FakeEngine:
    return fake_docker["default"]


@pytest.fixture
def ws(workspaces, engine: FakeEngine) -> str:
    path = str(workspaces("app"))
    engine.add_container("app-nogit", workspace=path)
    update_workspace_state(path, container_name="app-nogit", data_volume="v")
    with user_config_path().open("a") as f:
        f.write('\n[keep]\ncontainers = ["app-nogit"]\n')
    return path


def test_one_status_request_reads_the_user_config_once(
    fake_service: Service, ws: str, config_reads: Counter[Path]
):
    by_workspace = fake_service.status(StatusParams(workspace=ws))
    assert (by_workspace.name, by_workspace.keep) == ("app-nogit", True)
    assert config_reads == {user_config_path(): 1}
    config_reads.clear()
    by_name = fake_service.status(StatusParams(container="app-nogit"))
    assert by_name.keep is True
    assert config_reads == {user_config_path(): 1}


def test_one_keep_request_reads_it_once_and_writes_it_once(
    fake_service: Service, ws: str, config_reads: Counter[Path]
):
    result = fake_service.keep(KeepParams(workspace=ws, keep=False))
    assert (result.keep, result.source) == (False, "none")
    assert config_reads == {user_config_path(): 2}  # the request's reading, the locked write


def test_the_best_effort_parts_of_a_running_container(
    fake_service: Service, engine: FakeEngine, ws: str
):
    info = engine.by_name("app-nogit")
    engine.sessions[info.id] = (1, 3)
    status = fake_service.status(StatusParams(workspace=ws))
    assert status.uptime == "151d 12h 0m"  # the engine started it at its START, the clock is later
    assert status.sessions is not None and status.sessions.ssh_connections == 1
    assert status.sessions_known is True
    assert status.partial is None


def test_a_stopped_container_has_only_the_required_fields(
    fake_service: Service, engine: FakeEngine, ws: str
):
    engine.stop(engine.by_name("app-nogit").id)
    engine.calls.clear()
    status = fake_service.status(StatusParams(workspace=ws))
    assert (status.status, status.uptime, status.sessions) == ("stopped", None, None)
    assert not engine.called("exec")


def test_nothing_to_report(fake_service: Service, workspaces):
    with pytest.raises(DomainError) as err:
        fake_service.status(StatusParams(workspace=str(workspaces("empty"))))
    assert err.value.reason == "containerNotFound"
    assert err.value.hint == "Name the container (container) to pick one; list shows them."
    with pytest.raises(DomainError) as err:
        fake_service.status(StatusParams(container="app-x", workspace="/w"))
    assert err.value.reason == "conflictingOptions"

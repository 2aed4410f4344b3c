"""A container mounting another data volume than the one resolved for its workspace: used
as it is with a warning (and the mismatch as data) when the volume came from the config,
the state, the environment or the default; refused when it was requested explicitly."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams, StatusParams, VolumeMismatch
from containai_rpc.service import Service
from containai_rpc.workspace.state import user_config_path
from tests.support.fake_engine import FakeDocker


def state_of(workspace: Path) -> dict[str, object]:
    return tomllib.loads(user_config_path().read_text())["workspace"][str(workspace)]


def configure(workspace: Path, volume: str) -> None:
    """`[agent] data_volume` changed, and a state entry that names no volume."""
    user_config_path().write_text(
        f'[agent]\ndata_volume = "{volume}"\n\n'
        f'[workspace."{workspace}"]\ncontainer_name = "app-nogit"\n'
    )


@pytest.fixture
def ws(fake_service: Service, workspaces) -> Path:
    """A workspace whose container (on `containai-data`) runs."""
    path = workspaces("app")
    assert fake_service.run(RunParams(workspace=str(path))).data_volume == "containai-data"
    return path


@pytest.mark.parametrize("stopped", [False, True])
def test_a_configured_volume_warns_and_uses_the_container(
    fake_service: Service, fake_docker: FakeDocker, ws: Path, stopped: bool
):
    engine = fake_docker["default"]
    before = engine.by_name("app-nogit")
    assert before is not None
    if stopped:
        engine.stop(before.id)
    configure(ws, "other")
    ran = fake_service.run(RunParams(workspace=str(ws)))
    assert ran.action == ("start" if stopped else "attach")
    assert (ran.data_volume, ran.data_volume_source) == ("containai-data", "container")
    assert ran.volume_mismatch == VolumeMismatch(
        mounted="containai-data", requested="other", source="user-global"
    )
    [warning] = ran.warnings or []
    assert warning.startswith("Data volume mismatch: container 'app-nogit' mounts 'containai-data'")
    assert "'other' (user-global) was requested" in warning
    assert ("started it as it is" if stopped else "attached to it as it is") in warning
    assert ran.container is not None and ran.container.id == before.id
    assert engine.names() == ["app-nogit"] and "other" not in engine.volumes
    # As the original: the state had no volume, so it records the one mounted.
    assert state_of(ws)["data_volume"] == "containai-data"
    again = fake_service.run(RunParams(workspace=str(ws)))
    assert again.volume_mismatch is None and again.warnings is None


def test_a_dry_run_reports_the_mismatch(fake_service: Service, ws: Path):
    configure(ws, "other")
    plan = fake_service.run(RunParams(workspace=str(ws), dry_run=True))
    assert (plan.action, plan.dry_run, plan.data_volume) == ("attach", True, "containai-data")
    assert plan.volume_mismatch is not None and plan.volume_mismatch.requested == "other"
    assert "data_volume" not in state_of(ws)


def test_a_volume_from_the_environment_warns_and_is_not_recorded(
    fake_service: Service, ws: Path, monkeypatch: pytest.MonkeyPatch
):
    configure(ws, "containai-data")
    monkeypatch.setenv("CONTAINAI_DATA_VOLUME", "from-env")
    ran = fake_service.run(RunParams(workspace=str(ws)))
    assert ran.action == "attach"
    assert ran.volume_mismatch == VolumeMismatch(
        mounted="containai-data", requested="from-env", source="env"
    )
    assert "data_volume" not in state_of(ws)


@pytest.mark.parametrize("stopped", [False, True])
def test_an_explicit_volume_is_refused_in_the_originals_words(
    fake_service: Service, fake_docker: FakeDocker, ws: Path, stopped: bool
):
    engine = fake_docker["default"]
    before = engine.by_name("app-nogit")
    assert before is not None
    if stopped:
        engine.stop(before.id)
        before = engine.by_name("app-nogit")
    assert before is not None
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(ws), data_volume="other"))
    assert err.value.reason == "volumeMismatch"
    verb = "start" if stopped else "attachment"
    assert err.value.message.startswith("Data volume mismatch: container 'app-nogit'")
    assert err.value.message.endswith(f"Volume mismatch prevents {verb}.")
    assert "'other' (cli) was requested" in err.value.message
    after = engine.by_name("app-nogit")
    assert after is not None and (after.id, after.state) == (before.id, before.state)
    assert "other" not in engine.volumes
    assert state_of(ws)["data_volume"] == "containai-data"


def test_a_container_by_name_with_another_volume_is_used_with_a_warning(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    ws = workspaces("named")
    fake_docker["default"].add_container(
        "named", workspace=str(ws), volume="labelled", mounted="actual"
    )
    ran = fake_service.run(RunParams(container="named"))
    assert (ran.action, ran.data_volume) == ("attach", "actual")
    assert ran.volume_mismatch == VolumeMismatch(
        mounted="actual", requested="labelled", source="container"
    )


def test_status_carries_the_mismatch(fake_service: Service, fake_docker: FakeDocker, ws: Path):
    engine = fake_docker["default"]
    info = engine.by_name("app-nogit")
    assert info is not None
    engine.stop(info.id)
    assert fake_service.status(StatusParams(workspace=str(ws))).volume_mismatch is None
    configure(ws, "other")
    status = fake_service.status(StatusParams(workspace=str(ws)))
    assert status.volume_mismatch == VolumeMismatch(
        mounted="containai-data", requested="other", source="user-global"
    )
    by_name = fake_service.status(StatusParams(container="app-nogit"))
    assert by_name.volume_mismatch == status.volume_mismatch


def test_a_named_config_file_makes_a_mismatch_a_refusal(
    fake_service: Service, ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`cai --config FILE` is an explicit choice, as `--data-volume` is: no warn-and-use."""
    chosen = tmp_path / "chosen.toml"
    chosen.write_text('[agent]\ndata_volume = "other"\n')
    monkeypatch.setenv("CONTAINAI_CONFIG", str(chosen))
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(ws)))
    assert err.value.reason == "volumeMismatch"
    assert "'other' (user-global) was requested" in err.value.message
    assert chosen.read_text() == '[agent]\ndata_volume = "other"\n'

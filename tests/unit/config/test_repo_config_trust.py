"""A hostile repository's `.containai/config.toml`: which files count, which volumes it may
mount, which workspaces `run` refuses, which resource values it may set."""

from __future__ import annotations

import logging
import math
import os
import tomllib
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams
from containai_rpc.service import Service
from containai_rpc.workspace.config import load_settings, resolve_data_volume
from containai_rpc.workspace.state import user_config_path
from tests.support.fake_engine import FakeDocker

VICTIM = "victim-vol"


def write_repo(directory: Path, text: str, mode: int = 0o644) -> Path:
    path = directory / ".containai" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def write_user(text: str) -> None:
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def state() -> dict[str, object]:
    path = user_config_path()
    return tomllib.loads(path.read_text()) if path.exists() else {}


CHANGES = ("create", "start", "remove", "stop", "ensure_volume")


def changes(engine) -> list[str]:
    return [c.method for c in engine.calls if c.method in CHANGES]


# --------------------------------------------------------------------------- which file counts


def test_a_config_above_a_non_git_workspace_is_ignored(isolated_home: Path, tmp_path: Path):
    shared = tmp_path / "x"
    ws = shared / "ws"
    ws.mkdir(parents=True)
    write_repo(shared, f'[agent]\ndata_volume = "{VICTIM}"\n[container]\nmemory = "6m"\n')
    assert resolve_data_volume(str(ws), env={}) == ("containai-data", "default")
    assert load_settings(str(ws), env={}).memory is None
    write_repo(ws, '[agent]\ndata_volume = "own-vol"\n')  # the workspace's own file counts
    assert resolve_data_volume(str(ws), env={}) == ("own-vol", "repo-local")


def test_a_config_above_the_repository_root_is_ignored(isolated_home: Path, tmp_path: Path):
    repo = tmp_path / "outer" / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pkg").mkdir()
    write_repo(tmp_path / "outer", f'[agent]\ndata_volume = "{VICTIM}"\n')
    assert resolve_data_volume(str(repo / "pkg"), env={})[1] == "default"
    write_repo(repo, '[agent]\ndata_volume = "repo-vol"\n')  # the root's own: used
    assert resolve_data_volume(str(repo / "pkg"), env={}) == ("repo-vol", "repo-local")


@pytest.mark.parametrize("mode", [0o666, 0o664, 0o646])
def test_a_config_writable_by_others_is_ignored_with_a_warning(
    isolated_home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int
):
    ws = tmp_path / "ws"
    ws.mkdir()
    path = write_repo(ws, f'[agent]\ndata_volume = "{VICTIM}"\n', mode)
    with caplog.at_level(logging.WARNING):
        assert resolve_data_volume(str(ws), env={}) == ("containai-data", "default")
    assert str(path) in caplog.text and "ignored" in caplog.text


def test_a_config_owned_by_someone_else_is_ignored(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ws = tmp_path / "ws"
    ws.mkdir()
    write_repo(ws, f'[agent]\ndata_volume = "{VICTIM}"\n')
    monkeypatch.setattr(os, "getuid", lambda: os.stat(ws).st_uid + 1)
    assert resolve_data_volume(str(ws), env={})[1] == "default"


# --------------------------------------------------------------------------- which volume


@pytest.fixture
def hostile(fake_docker: FakeDocker, workspaces) -> Path:
    """A workspace whose repository config names a volume ContainAI did not create."""
    engine = fake_docker["default"]
    engine.volumes.add(VICTIM)
    engine.foreign_volumes.add(VICTIM)
    ws = workspaces("app")
    write_repo(ws, f'[agent]\ndata_volume = "{VICTIM}"\n')
    return ws


def test_a_foreign_volume_chosen_by_a_repository_is_refused(
    fake_service: Service, fake_docker: FakeDocker, hostile: Path
):
    engine = fake_docker["default"]
    for params in (
        RunParams(workspace=str(hostile)),
        RunParams(workspace=str(hostile), dry_run=True),
    ):
        with pytest.raises(DomainError) as caught:
            fake_service.run(params)
        assert caught.value.reason == "volumeNotApproved"
        assert VICTIM in str(caught.value) and "approveVolume" in (caught.value.hint or "")
    assert engine.names() == [] and changes(engine) == []
    assert state() == {}


def test_an_approved_volume_is_mounted_and_the_approval_sticks(
    fake_service: Service, fake_docker: FakeDocker, hostile: Path
):
    engine = fake_docker["default"]
    done = fake_service.run(RunParams(workspace=str(hostile), approve_volume=True))
    assert (done.action, done.data_volume, done.data_volume_source) == (
        "create",
        VICTIM,
        "repo-local",
    )
    assert engine.created_specs[-1].data_volume == VICTIM
    assert state()["workspace"][str(hostile)]["data_volume"] == VICTIM
    again = fake_service.run(RunParams(workspace=str(hostile), fresh=True))
    assert (again.action, again.data_volume) == ("recreate", VICTIM)


def test_a_volume_a_foreign_container_mounts_is_refused_even_when_approved(
    fake_service: Service, fake_docker: FakeDocker, hostile: Path
):
    engine = fake_docker["default"]
    engine.add_container("someone", managed=False, volume=None, mounted=VICTIM, workspace=None)
    with pytest.raises(DomainError) as caught:
        fake_service.run(RunParams(workspace=str(hostile), approve_volume=True))
    assert caught.value.reason == "volumeNotApproved" and "someone" in str(caught.value)
    assert changes(engine) == [] and state() == {}


def test_a_new_or_containai_volume_needs_no_approval_and_is_not_remembered(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    write_repo(ws, '[agent]\ndata_volume = "brand-new"\n')
    done = fake_service.run(RunParams(workspace=str(ws)))
    assert (done.data_volume, done.data_volume_source) == ("brand-new", "repo-local")
    assert "data_volume" not in state()["workspace"][str(ws)]  # the repo's wish: not kept
    fresh = fake_service.run(RunParams(workspace=str(ws), fresh=True))  # ours now
    assert (fresh.action, fresh.data_volume) == ("recreate", "brand-new")
    assert engine.volume_info("brand-new").managed


# --------------------------------------------------------------------------- which workspace


def test_root_home_and_system_dirs_are_refused(
    fake_service: Service, fake_docker: FakeDocker, tmp_path: Path, isolated_home: Path
):
    engine = fake_docker["default"]
    link = tmp_path / "to-root"
    link.symlink_to("/")
    for ws in ("/", str(link), str(isolated_home), "/etc", "/usr/lib"):
        with pytest.raises(DomainError) as caught:
            fake_service.run(RunParams(workspace=ws))
        assert caught.value.reason == "workspaceRefused", ws
        assert "allowSystemWorkspace" in (caught.value.hint or "")
    assert engine.calls == [] and state() == {}
    plan = fake_service.run(
        RunParams(workspace=str(isolated_home), allow_system_workspace=True, dry_run=True)
    )
    assert plan.action == "create"


# --------------------------------------------------------------------------- resource values


@pytest.mark.parametrize(
    "line",
    [
        "cpus = inf",
        "cpus = 1e308",
        "cpus = 1e-300",
        "cpus = 0",
        "cpus = nan",
        'memory = "0"',
        'memory = "1t"',
        'memory = "1k"',
        'memory = "-1g"',
    ],
)
@pytest.mark.parametrize("where", ["user", "repo"])
def test_a_bad_resource_value_refuses_before_fresh_removes_anything(
    fake_service: Service, fake_docker: FakeDocker, workspaces, line: str, where: str
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    old = fake_service.run(RunParams(workspace=str(ws))).container
    engine.calls.clear()
    if where == "user":
        write_user(f"[container]\n{line}\n")
    else:
        write_repo(ws, f"[container]\n{line}\n")
    with pytest.raises(DomainError) as caught:
        fake_service.run(RunParams(workspace=str(ws), fresh=True))
    assert caught.value.reason == "configInvalid"
    assert changes(engine) == []
    assert engine.by_name("app-nogit").id == old.id


def test_more_cpus_than_the_engine_has_refuses_before_fresh_removes(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    old = fake_service.run(RunParams(workspace=str(ws))).container
    write_user(f"[container]\ncpus = {engine.ncpu + 1}\n")
    engine.calls.clear()
    with pytest.raises(DomainError) as caught:
        fake_service.run(RunParams(workspace=str(ws), fresh=True))
    assert caught.value.reason == "configInvalid" and changes(engine) == []
    assert engine.by_name("app-nogit").id == old.id


def test_a_repository_may_tighten_limits_but_not_lift_them(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]  # 4 CPUs, 8 GiB: defaults 2 CPUs, 4g
    ws = workspaces("app")
    write_user('[container]\nmemory = "2g"\ncpus = 2\n')
    write_repo(ws, '[container]\nmemory = "64g"\ncpus = 3\n')
    fake_service.run(RunParams(workspace=str(ws)))
    assert (engine.created_specs[-1].memory, engine.created_specs[-1].cpus) == ("2g", 2.0)
    write_repo(ws, '[container]\nmemory = "512m"\ncpus = 0.5\n')
    fake_service.run(RunParams(workspace=str(ws), fresh=True))
    assert (engine.created_specs[-1].memory, engine.created_specs[-1].cpus) == ("512m", 0.5)
    write_user("")  # the user set none: the repository may lower the default, not raise it
    write_repo(ws, '[container]\nmemory = "64g"\ncpus = 4\n')
    fake_service.run(RunParams(workspace=str(ws), fresh=True))
    assert (engine.created_specs[-1].memory, engine.created_specs[-1].cpus) == ("4g", 2.0)
    assert math.isfinite(engine.created_specs[-1].cpus)

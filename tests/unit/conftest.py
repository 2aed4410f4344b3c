"""Unit-test fixtures: real git repositories for naming tests (isolated from the user's
git config and env), and the real service over in-memory engines for service tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from containai_rpc.service import Service
from containai_rpc.workspace.config import DEFAULT_IMAGE
from tests.support.fake_engine import FAKE_NOW, FakeDocker

GitRunner = Callable[..., str]
RepoMaker = Callable[..., Path]


def _run_git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No global/system config, fixed identity and dates; returns the dir for workspaces."""
    for name in [n for n in os.environ if n.startswith("GIT_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "ContainAI Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@containai.invalid")
        monkeypatch.setenv(f"GIT_{role}_DATE", "2024-01-01T00:00:00Z")
    workspaces = tmp_path / "ws"
    workspaces.mkdir()
    return workspaces


@pytest.fixture
def git(git_env: Path) -> GitRunner:
    """`git(cwd, *args)` → stripped stdout, in the isolated environment."""
    return _run_git


@pytest.fixture
def make_repo(git_env: Path) -> RepoMaker:
    """`make_repo(name, branch="main", commit=True)`: a repo under the workspaces dir."""

    def make(name: str, *, branch: str = "main", commit: bool = True) -> Path:
        repo = git_env / name
        repo.mkdir()
        _run_git(repo, "init", "-q", "-b", branch)
        if commit:
            (repo / "README").write_text("hello\n")
            _run_git(repo, "add", "README")
            _run_git(repo, "commit", "-q", "-m", "init")
        return repo

    return make


# --------------------------------------------------------------------------- service tests


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own HOME/XDG (user config, locks, SSH files) and no CONTAINAI_/DOCKER_ variables."""
    for name in [n for n in os.environ if n.startswith(("CONTAINAI_", "DOCKER_", "XDG_"))]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return home


@pytest.fixture
def fake_docker(tmp_path: Path) -> FakeDocker:
    """One fake engine (context `default`, with Sysbox) holding the default image, which
    asks for no SSH (so `run` verifies without an sshd)."""
    docker = FakeDocker(tmp_path / "docker", contexts=())
    engine = docker.add_context("default", runtimes=("runc", "sysbox-runc"))
    engine.add_image(DEFAULT_IMAGE, {"containai.image.ssh": "false"})
    return docker


@pytest.fixture
def fake_service(isolated_home: Path, fake_docker: FakeDocker) -> Iterator[Service]:
    """The real service over the fake engines, its clock fixed at `FAKE_NOW`."""
    service = Service(fake_docker.engine_set(), clock=lambda: FAKE_NOW, sshd_timeout_s=1.0)
    yield service
    service.close()


@pytest.fixture
def workspaces(tmp_path: Path) -> Callable[[str], Path]:
    """`workspaces(name)`: a plain directory (no git: its container is `<name>-nogit`)."""

    def make(name: str) -> Path:
        path = tmp_path / "ws" / name
        path.mkdir(parents=True)
        return path

    return make

"""Fixtures shared by every test: an isolated HOME per test and real-engine cleanup.

Every test gets its own HOME/XDG folders, a unique data-volume name and workspaces under
its own tmp folder; whatever containers and volumes carry those are removed afterwards,
so a leftover from an earlier run never breaks a test and nothing touches ~/.ssh.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tests.support` imports however pytest was started
    sys.path.insert(0, str(ROOT))

from tests.support import leftovers  # noqa: E402
from tests.support.engines import (  # noqa: E402
    GIT_ENV,
    SYSTEMD_IMAGE,
    TINY_IMAGE,
    Daemon,
    Sandbox,
)

__all__ = ["GIT_ENV", "SYSTEMD_IMAGE", "TINY_IMAGE", "Daemon", "Sandbox"]


@pytest.fixture(scope="session")
def docker_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[docker.DockerClient]:
    """The main engine, first rid of what killed test runs left on it."""
    client = docker.from_env(timeout=120)
    try:
        client.ping()
    except docker.errors.DockerException as exc:  # pragma: no cover - set-up problem
        pytest.fail(f"No Docker engine answers ({exc}); run 'make setup'")
    leftovers.claim(tmp_path_factory.getbasetemp())
    for line in leftovers.reap(client):
        print(f"\nleftovers of an earlier test run removed: {line}", file=sys.stderr)
    yield client
    client.close()


@pytest.fixture
def sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker_client: docker.DockerClient
) -> Iterator[Sandbox]:
    root = tmp_path.resolve()
    token = uuid.uuid4().hex[:10]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTAINAI_", "XDG_"))}
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "home" / ".config"),
        XDG_STATE_HOME=str(root / "home" / ".local" / "state"),
        XDG_CACHE_HOME=str(root / "home" / ".cache"),
        CONTAINAI_ALLOW_REDUCED_ISOLATION="1",
        CONTAINAI_IMAGE=TINY_IMAGE,
        CONTAINAI_LOG_LEVEL="WARNING",
        # Each `cai` starts its own server, as the tests expect; the shared-server tests
        # turn it on, and a runtime dir of the sandbox's own keeps theirs private.
        CONTAINAI_SHARED_SERVER="0",
        XDG_RUNTIME_DIR=str(root / "run"),
    )
    (root / "home").mkdir()
    (root / "run").mkdir(mode=0o700)
    box = Sandbox(root=root, env=env, volume=f"cai-test-{token}", client=docker_client)
    box.config_file.parent.mkdir(parents=True)
    box.config_file.write_text(f'[agent]\ndata_volume = "{box.volume}"\n')
    for key in [k for k in os.environ if k.startswith(("CONTAINAI_", "XDG_"))]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        yield box
    finally:
        box.cleanup()
        shutil.rmtree(root / "home", ignore_errors=True)


@pytest.fixture
def dedicated_engine_factory() -> Iterator[Callable[..., Daemon]]:
    """Start as many private dockerds as a test needs (each with the tiny image loaded);
    `start(runtimes={"name": "/path/of/binary"})` registers extra OCI runtimes.

    Their roots live under /tmp with short paths (unix socket paths are limited to 108
    bytes). All are stopped and deleted afterwards; the main daemon is never touched.
    """
    daemons: list[Daemon] = []

    def start(runtimes: dict[str, str] | None = None) -> Daemon:
        token = uuid.uuid4().hex[:8]
        root = Path(f"/tmp/cai-d-{token}")
        daemon = Daemon(
            root=root, host=f"unix://{root}/d.sock", netns=f"cai-{token}", runtimes=runtimes or {}
        )
        daemons.append(daemon)
        daemon.start()
        daemon.load_image()
        return daemon

    yield start
    for daemon in daemons:
        daemon.destroy()


@pytest.fixture
def dedicated_engine(dedicated_engine_factory: Callable[..., Daemon]) -> Daemon:
    """One private dockerd; point a server at it with `DOCKER_HOST=<daemon.host>`."""
    return dedicated_engine_factory()

"""Fixtures shared by every test: an isolated HOME per test and real-engine cleanup.

Every test gets its own HOME/XDG folders, a unique data-volume name and workspaces under
its own tmp folder; whatever containers and volumes carry those are removed afterwards,
so a leftover from an earlier run never breaks a test and nothing touches ~/.ssh.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tests.support` imports however pytest was started
    sys.path.insert(0, str(ROOT))

TINY_IMAGE = "containai-test-tiny:latest"
SYSTEMD_IMAGE = "containai:latest"
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}


@dataclass
class Sandbox:
    """One test's private world: HOME, config, workspaces, a unique volume name."""

    root: Path
    env: dict[str, str]
    volume: str
    client: docker.DockerClient
    extra_volumes: set[str] = field(default_factory=set)

    @property
    def home(self) -> Path:
        return Path(self.env["HOME"])

    @property
    def config_file(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "containai" / "config.toml"

    def workspace(self, name: str, branch: str | None = "main", parent: str = "ws") -> Path:
        """A real directory; a git repo with one commit on `branch` unless branch is None."""
        path = self.root / parent / name
        path.mkdir(parents=True)
        if branch is not None:
            env = {**os.environ, **GIT_ENV, "HOME": str(self.home)}
            for argv in (
                ["git", "init", "-q", "-b", branch],
                ["git", "commit", "-q", "--allow-empty", "-m", "init"],
            ):
                subprocess.run(argv, cwd=path, env=env, check=True)
        return path

    def cai(
        self, *args: str, cwd: Path | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the real `cai` CLI as a subprocess in this sandbox."""
        return subprocess.run(
            [sys.executable, "-m", "containai_rpc.cli", *args],
            cwd=cwd or self.root,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def containers(self) -> list[docker.models.containers.Container]:
        """Every container (managed or not) whose workspace label lies in this sandbox."""
        found = []
        for c in self.client.containers.list(
            all=True, sparse=True, filters={"label": "containai.workspace"}
        ):
            ws = (c.attrs.get("Labels") or {}).get("containai.workspace", "")
            if ws.startswith(str(self.root)):
                found.append(self.client.containers.get(c.id))
        return found

    def cleanup(self) -> None:
        for c in self.containers():
            c.remove(force=True)
        for v in self.client.volumes.list():
            if v.name.startswith(self.volume) or v.name in self.extra_volumes:
                v.remove(force=True)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=120)
    try:
        client.ping()
    except docker.errors.DockerException as exc:  # pragma: no cover - set-up problem
        pytest.fail(f"No Docker engine answers ({exc}); run 'make setup'")
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
    )
    (root / "home").mkdir()
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


@dataclass
class Daemon:
    """A dedicated dockerd for one test: safe to stop, kill, or fill with containers.

    It runs in its own network namespace: a second dockerd in the host's namespace
    fights the main one over `docker0` (with `--bridge=none` it even deletes it).
    """

    root: Path
    host: str
    netns: str
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) it and wait until it answers (poll with a deadline)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._wait_for_old_containerd()
        if not Path(f"/run/netns/{self.netns}").exists():
            subprocess.run(["ip", "netns", "add", self.netns], check=True)
            subprocess.run(
                ["ip", "netns", "exec", self.netns, "ip", "link", "set", "lo", "up"], check=True
            )
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            [
                "nsenter",  # not `ip netns exec`: that remounts /sys and hides the cgroups
                f"--net=/run/netns/{self.netns}",
                "dockerd",
                "--host",
                self.host,
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "d.pid"),
                "--iptables=false",
                "--ip-masq=false",
                "--ip-forward=false",
                "--ip6tables=false",
                "--userland-proxy=true",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                info = subprocess.run(
                    ["docker", "-H", self.host, "info"], capture_output=True, timeout=10
                )
            except subprocess.TimeoutExpired:
                continue
            if info.returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)  # bounded poll: dockerd has no readiness signal
        raise RuntimeError(f"dedicated dockerd did not start; see {self.root / 'dockerd.log'}")

    def _wait_for_old_containerd(self) -> None:
        """A restarted dockerd reuses the containerd its pid file names while that pid is
        alive; right after a SIGKILL it is the dying one (dockerd starts it in a session of
        its own, so a process-group kill misses it) and the new dockerd would wait forever.
        """
        pidfile = self.root / "exec" / "containerd" / "containerd.pid"
        deadline = time.monotonic() + 30
        while pidfile.exists() and time.monotonic() < deadline:
            pid = int(pidfile.read_text().strip() or 0)
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                stat = ""
            if not stat or stat.rsplit(")", 1)[1].split()[0] == "Z":  # gone, or a zombie
                pidfile.unlink(missing_ok=True)
                return
            time.sleep(0.05)  # bounded poll: the kernel gives no event for another's exit

    def stop(self, *, kill: bool = False) -> None:
        """Stop it (SIGTERM), or SIGKILL it together with its containerd, as a crash would.

        Returns only when the whole process group is gone: a restart that races a dying
        containerd hangs.
        """
        if self.proc is None:
            return
        if kill:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)  # bounded poll: no event for "the group has exited"
        self.proc = None

    def load_image(self, image: str = TINY_IMAGE) -> None:
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "-H", self.host, "load", "-q"],
            stdin=save.stdout,
            check=True,
            capture_output=True,
        )
        save.wait()

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.host, version="auto", timeout=60)

    def destroy(self) -> None:
        """Remove its containers, stop it, delete its namespace and files."""
        if self.proc is not None:
            try:
                client = self.client()
                for c in client.containers.list(all=True):
                    c.remove(force=True)
                client.close()
            except docker.errors.DockerException:
                pass
        self.stop()
        # dockerd mounts its exec root and bind-mounts its data root onto itself
        for sub in ("exec", "data"):
            subprocess.run(["umount", "-R", str(self.root / sub)], capture_output=True)
        subprocess.run(["ip", "netns", "delete", self.netns], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def dedicated_engine_factory() -> Iterator[Callable[[], Daemon]]:
    """Start as many private dockerds as a test needs (each with the tiny image loaded).

    Their roots live under /tmp with short paths (unix socket paths are limited to 108
    bytes). All are stopped and deleted afterwards; the main daemon is never touched.
    """
    daemons: list[Daemon] = []

    def start() -> Daemon:
        token = uuid.uuid4().hex[:8]
        root = Path(f"/tmp/cai-d-{token}")
        daemon = Daemon(root=root, host=f"unix://{root}/d.sock", netns=f"cai-{token}")
        daemons.append(daemon)
        daemon.start()
        daemon.load_image()
        return daemon

    yield start
    for daemon in daemons:
        daemon.destroy()


@pytest.fixture
def dedicated_engine(dedicated_engine_factory: Callable[[], Daemon]) -> Daemon:
    """One private dockerd; point a server at it with `DOCKER_HOST=<daemon.host>`."""
    return dedicated_engine_factory()

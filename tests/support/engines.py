"""Real-engine test helpers: a test's private world (`Sandbox`) and a private dockerd
(`Daemon`). The fixtures that make them are in tests/conftest.py; bench/ uses `Daemon`
directly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[2]
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
    # Extra OCI runtimes, name → binary (`dockerd --add-runtime name=path`).
    runtimes: dict[str, str] = field(default_factory=dict)

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
                *(f"--add-runtime={name}={path}" for name, path in self.runtimes.items()),
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
        """A client once the daemon answers; if its dockerd has died, say so with the
        end of its log (a refused socket alone does not say why)."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return docker.DockerClient(base_url=self.host, version="auto", timeout=60)
            except docker.errors.DockerException:
                died = self.proc is not None and self.proc.poll() is not None
                if died or time.monotonic() > deadline:
                    log = (self.root / "dockerd.log").read_text(errors="replace")[-3000:]
                    state = "exited" if died else "does not answer"
                    raise RuntimeError(f"dedicated dockerd {state}; its log ends:\n{log}") from None
                time.sleep(0.1)  # bounded poll: dockerd has no readiness signal

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

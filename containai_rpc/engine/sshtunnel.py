"""One persistent SSH connection per ssh:// context, owned by the server.

Over `ssh://` the docker CLI (and docker-py's shell-out transport) start a new
`ssh … docker system dial-stdio` for every connection: a full SSH handshake each time.
Instead the server keeps one OpenSSH master per remote context, forwarding a private
local socket to the remote engine's socket (`-L <local>:/var/run/docker.sock`), and the
SDK talks to that socket as to a local engine. The master's control socket also carries
the cheap extra channels start verification needs (`ssh -S … -W 127.0.0.1:<port>`).

The user's ssh config stays the source of hosts, users, ports and keys. Host keys are
checked strictly (`StrictHostKeyChecking=yes`, `BatchMode=yes`): an unknown or changed
key fails at once with the command that trusts it, never a prompt or a hang. Sockets
live in a private runtime folder (0700) that `close()` removes with the master.
"""

from __future__ import annotations

import os
import pwd
import shlex
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from containai_rpc.errors import DomainError

REMOTE_SOCKET = "/var/run/docker.sock"
_UNIX_PATH_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin
# Runs the master and ends it when our end of its stdin closes, which happens when the
# server exits however it exits (even SIGKILL): no master outlives its server.
_TIED_TO_US = (
    'exec 3<&0; "$@" </dev/null & c=$!; { read -r _ <&3; kill $c 2>/dev/null; } & r=$!; '
    "wait $c; s=$?; kill $r 2>/dev/null; exit $s"
)
_HOST_KEY_WORDS = (
    "Host key verification failed",
    "REMOTE HOST IDENTIFICATION HAS CHANGED",
    "host key is known for",
)


@dataclass(frozen=True)
class SshDestination:
    """Where an `ssh://[user@]host[:port]` context points; unset parts come from ssh config."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> SshDestination:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme != "ssh" or not parts.hostname or port == -1 or parts.path not in ("", "/"):
            raise DomainError(
                "contextInvalid",
                f"Not an SSH endpoint we can use: {url} (expected ssh://[user@]host[:port])",
            )
        return cls(host=parts.hostname, user=parts.username, port=port)

    @property
    def login(self) -> str:
        """`user@host`, or `host` when ssh config (or the local user) gives the user."""
        return f"{self.user}@{self.host}" if self.user else self.host

    def args(self) -> list[str]:
        """ssh's arguments for it: `-p` only when the URL names a port (else ssh config's)."""
        port = ["-p", str(self.port)] if self.port else []
        return [*port, "--", self.login]

    def trust_command(self) -> str:
        """What a user runs once to check and accept its host key."""
        port = ["-p", str(self.port)] if self.port else []
        return shlex.join(["ssh", *port, self.login, "true"])

    def display(self) -> str:
        return self.login + (f":{self.port}" if self.port else "")


def ssh_program() -> list[str]:
    """`ssh`, plus `-F $HOME/.ssh/config` when HOME is not the login home: ssh reads the
    config of the passwd home, and ours (and the user's hosts) live under `$HOME`."""
    home = Path(os.environ.get("HOME") or Path.home())
    try:
        login = Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        login = home
    config = home / ".ssh" / "config"
    if login.resolve() != home.resolve() and config.exists():
        return ["ssh", "-F", str(config)]
    return ["ssh"]


def strict_options(connect_timeout_s: float) -> list[str]:
    return [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"ConnectTimeout={max(1, int(connect_timeout_s))}",
        "-o",
        "ServerAliveInterval=2",
        "-o",
        "ServerAliveCountMax=2",
    ]


def runtime_dir() -> Path:
    """A private folder (0700) for sockets: under `$XDG_RUNTIME_DIR` when that keeps socket
    paths short enough, else the temp folder."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if not base or len(base) > 50 or not os.path.isdir(base):
        base = None
    return Path(tempfile.mkdtemp(prefix="cai-ssh-", dir=base))


class Tunnel:
    """One context's SSH master: `open()` it, then the SDK uses `socket`; `close()` ends it."""

    def __init__(self, context: str, dest: SshDestination, folder: Path, index: int) -> None:
        self.context = context
        self.dest = dest
        self.socket = folder / f"{index}.sock"
        self.control = folder / f"{index}.ctl"
        self.log = folder / f"{index}.log"
        if len(str(self.control)) > _UNIX_PATH_MAX:
            raise DomainError("engineUnavailable", f"Socket path too long: {self.control}")
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.opened_at: float | None = None

    @property
    def pid(self) -> int | None:
        """The pid of the shell that runs the master (and ends it with us)."""
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def open(self, timeout_s: float) -> None:
        """Connect (if not connected) and wait until the forward exists, within `timeout_s`."""
        with self._lock:
            if self.alive() and self.socket.exists():
                return
            self._stop()
            self.socket.unlink(missing_ok=True)
            argv = [
                *ssh_program(),
                *strict_options(timeout_s),
                "-N",
                "-M",
                "-S",
                str(self.control),
                "-o",
                "ControlPersist=no",
                "-o",
                "ExitOnForwardFailure=yes",
                "-o",
                "StreamLocalBindUnlink=yes",
                "-L",
                f"{self.socket}:{REMOTE_SOCKET}",
                *self.dest.args(),
            ]
            with self.log.open("wb") as log:  # a file: a pipe nobody reads could fill up
                proc = self._proc = subprocess.Popen(
                    ["sh", "-c", _TIED_TO_US, "containai-ssh", *argv],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,  # a Ctrl-C in the client's terminal is not for it
                )
            deadline = time.monotonic() + timeout_s
            while not self.socket.exists():
                if proc.poll() is not None:
                    raise self._failed(proc)
                if time.monotonic() > deadline:
                    self._stop()
                    raise self._error(f"no SSH connection within {timeout_s:g} s", None)
                time.sleep(0.01)  # bounded poll: ssh signals nothing when the forward is up
            self.opened_at = time.time()

    def _failed(self, proc: subprocess.Popen[bytes]) -> DomainError:
        stderr = self.log.read_text(errors="replace") if self.log.exists() else ""
        self._proc = None
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        if any(word in stderr for word in _HOST_KEY_WORDS):
            trust = self.dest.trust_command()
            if "CHANGED" in stderr:
                return self._error(
                    f"the SSH host key of {self.dest.host} has changed (strict checking)",
                    f"If the change is expected, remove the old key (ssh-keygen -R "
                    f"{self.dest.host}), check the new fingerprint and trust it: {trust}",
                )
            return self._error(
                f"the SSH host key of {self.dest.host} is not known (strict checking)",
                f"Check the host's key fingerprint, then trust it by connecting once: {trust}",
            )
        return self._error(f"ssh failed: {lines[-1] if lines else f'exit {proc.returncode}'}", None)

    def _error(self, cause: str, hint: str | None) -> DomainError:
        return DomainError(
            "engineUnavailable",
            f"Docker engine of context '{self.context}' is not reachable at "
            f"ssh://{self.dest.display()}: {cause}",
            hint=hint
            or f"Check that sshd and Docker run on {self.dest.host} "
            f"(ssh {self.dest.display()} docker version), then run doctor.",
            context=self.context,
        )

    def channel_argv(self, port: int) -> list[str]:
        """A command whose stdin/stdout is a TCP connection to the remote's 127.0.0.1:<port>,
        through the master (no new handshake)."""
        return [
            *ssh_program(),
            *strict_options(5),
            "-S",
            str(self.control),
            "-o",
            "ControlMaster=no",
            "-W",
            f"127.0.0.1:{port}",
            *self.dest.args(),
        ]

    def describe(self) -> str:
        pid = f", pid {self.pid}" if self.pid else ""
        return f"one SSH connection to {self.dest.display()} ({self.socket}{pid})"

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the shell ends the master, then itself
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        with self._lock:
            self._stop()
            self.socket.unlink(missing_ok=True)
            self.control.unlink(missing_ok=True)
            self.log.unlink(missing_ok=True)

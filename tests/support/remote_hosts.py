"""Remote Docker hosts on this machine: a private dockerd reached only over SSH.

Each `RemoteHost` is a `Daemon` in its own network namespace, joined to the host by a
veth pair (10.213.K.1 here, 10.213.K.2 there), with an sshd listening on 10.213.K.2
inside that namespace. The sshd runs in a mount namespace of its own where the private
dockerd's socket is bind-mounted at /var/run/docker.sock, so to an SSH client it looks
like any remote host: Docker at the default socket, container ports published on *its*
127.0.0.1 (unreachable from here except through the sshd). Traffic never leaves the
machine.

`SshClientHome` is the client side in a sandbox HOME: a key, `~/.ssh/config` naming each
host (HostName, Port, User, IdentityFile: the port is in ssh config only, never in the
context URL) and `~/.ssh/known_hosts` holding each host's real key.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.engines import Daemon

SSHD = Path("/usr/sbin/sshd")
SSH_PORT = 2222
IMAGE_CACHE = Path("/var/cache/containai-rpc/remote-images")


def _run(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True)


def _free_subnet() -> int:
    """A 10.213.K.0/30 no interface here uses yet."""
    used = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    for _ in range(500):
        k = random.randint(1, 254)
        if f"10.213.{k}." not in used:
            return k
    raise RuntimeError("no free 10.213.K.0/30 subnet")


def load_cached_image(daemon: Daemon, image: str) -> None:
    """`docker save` once per image id (cached on disk), `docker load` into the daemon."""
    image_id = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    tar = IMAGE_CACHE / f"{image_id.split(':')[-1][:16]}.tar"
    if not tar.exists():
        partial = tar.with_suffix(f".{os.getpid()}.part")
        _run("docker", "save", "-o", str(partial), image)
        partial.rename(tar)
    _run("docker", "-H", daemon.host, "load", "-q", "-i", str(tar))


def _descendants(pid: int) -> list[int]:
    """pid and every process below it (sshd's per-connection children start sessions of
    their own, so a process-group kill would miss them)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


@dataclass
class RemoteHost:
    """A private dockerd behind its own sshd, in its own network namespace."""

    name: str
    daemon: Daemon
    work: Path
    subnet: int = field(default_factory=_free_subnet)
    sshd: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"10.213.{self.subnet}.2"

    @property
    def host_key(self) -> Path:
        return self.work / "host_key"

    def setup(self, authorized_key: Path) -> None:
        """The veth pair, the host key and authorized_keys; then start sshd."""
        self.work.mkdir(parents=True, exist_ok=True)
        outside, inside = f"cvh{self.daemon.netns[-8:]}", f"cvn{self.daemon.netns[-8:]}"
        _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        _run("ip", "link", "set", inside, "netns", self.daemon.netns)
        _run("ip", "addr", "add", f"10.213.{self.subnet}.1/30", "dev", outside)
        _run("ip", "link", "set", outside, "up")
        in_ns = ("ip", "netns", "exec", self.daemon.netns)
        _run(*in_ns, "ip", "addr", "add", f"{self.address}/30", "dev", inside)
        _run(*in_ns, "ip", "link", "set", inside, "up")
        if not self.host_key.exists():
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.host_key))
        (self.work / "authorized_keys").write_bytes(authorized_key.read_bytes())
        self.start_sshd()

    def start_sshd(self) -> None:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
        options = {
            "ListenAddress": self.address,
            "Port": str(SSH_PORT),
            "HostKey": str(self.host_key),
            "AuthorizedKeysFile": str(self.work / "authorized_keys"),
            "PidFile": "none",
            "PermitRootLogin": "prohibit-password",
            "PasswordAuthentication": "no",
            "KbdInteractiveAuthentication": "no",
            "UsePAM": "no",
            "StrictModes": "no",
            "AllowStreamLocalForwarding": "yes",
            "AllowTcpForwarding": "yes",
            "MaxSessions": "50",
        }
        sshd = [str(SSHD), "-D", "-e", "-f", "/dev/null"]
        for key, value in options.items():
            sshd += ["-o", f"{key}={value}"]
        docker_socket = self.daemon.host.removeprefix("unix://")
        script = 'mount --bind "$1" /run/docker.sock && shift && exec "$@"'
        log = (self.work / "sshd.log").open("ab")
        self.sshd = subprocess.Popen(
            # a mount namespace of its own: Docker at the default socket, for sshd only
            [
                *("unshare", "--mount", "--propagation", "private"),
                *("nsenter", f"--net=/run/netns/{self.daemon.netns}"),
                *("sh", "-c", script, "sh", docker_socket, *sshd),
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.sshd.poll() is not None:
                raise RuntimeError((self.work / "sshd.log").read_text())
            if time.monotonic() > deadline:
                raise RuntimeError("sshd did not answer within 10 s")
            time.sleep(0.05)  # bounded poll: sshd has no readiness signal

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.address, SSH_PORT), timeout=1) as s:
                return s.recv(4) == b"SSH-"
        except OSError:
            return False

    def kill_sshd(self) -> None:
        """sshd and every connection it serves, as when the host's sshd goes away."""
        if self.sshd is None:
            return
        for pid in _descendants(self.sshd.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.sshd.wait(timeout=10)
        self.sshd = None


class SshClientHome:
    """The SSH client side in a sandbox HOME: one key, config entries, known_hosts."""

    def __init__(self, home: Path) -> None:
        self.dot_ssh = home / ".ssh"
        self.dot_ssh.mkdir(mode=0o700, exist_ok=True)
        self.key = self.dot_ssh / "id_remote"
        if not self.key.exists():
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
        self.config = self.dot_ssh / "config"
        self.known_hosts = self.dot_ssh / "known_hosts"

    def add(self, host: RemoteHost, *, trusted: bool = True) -> None:
        """`Host <name> <address>` with its address, port and key; its real host key if
        `trusted`. (By address too: docker-py's dial-stdio needs the port in the URL.)"""
        with self.config.open("a") as f:
            f.write(
                f"\nHost {host.name} {host.address}\n  HostName {host.address}\n  Port {SSH_PORT}\n"
                f"  User root\n  IdentityFile {self.key}\n  IdentitiesOnly yes\n"
                f"  UserKnownHostsFile {self.known_hosts}\n  LogLevel ERROR\n"
            )
        if trusted:
            self.trust(host)

    def trust(self, host: RemoteHost) -> None:
        kind, data = host.host_key.with_suffix(".pub").read_text().split()[:2]
        with self.known_hosts.open("a") as f:
            f.write(f"[{host.address}]:{SSH_PORT} {kind} {data}\n")

"""SSH access to one container: key injection, host keys, readiness, login; and forgetting it.

Every step is bounded by a deadline and fails with its own reason, so the caller
(service/verify.py) can report exactly what did not work.
"""

from __future__ import annotations

import selectors
import socket
import subprocess
import time

from containai_rpc.engine import ContainerInfo, Engine
from containai_rpc.errors import DomainError
from containai_rpc.ssh import hostconfig, known_hosts
from containai_rpc.ssh.known_hosts import HostKey

EXEC_TIMEOUT_S = 10.0
LOGIN_TIMEOUT_S = 10.0

# Runs as the agent (so nothing root-owned ends up in its home and no symlink there can
# redirect a root write); the key arrives as $1, never spliced into the script.
_INJECT_KEY = r"""set -e
d="$HOME/.ssh"
f="$d/authorized_keys"
mkdir -p "$d"
touch "$f"
chmod 700 "$d"
chmod 600 "$f"
if ! grep -qxF -- "$1" "$f"; then
  if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >>"$f"; fi
  printf '%s\n' "$1" >>"$f"
fi
grep -qxF -- "$1" "$f"
"""
_HOST_KEYS = "cat /etc/ssh/ssh_host_*_key.pub"


def _exec(engine: Engine, info: ContainerInfo, argv: list[str], user: str, what: str) -> str:
    """Output of a command in the container; any failure is `sshSetupFailed` naming `what`."""
    try:
        result = engine.exec(info.id, argv, user=user, timeout_s=EXEC_TIMEOUT_S)
    except DomainError as exc:
        if exc.reason == "engineUnavailable":
            raise
        raise DomainError("sshSetupFailed", f"{what} in {info.name} failed: {exc.message}") from exc
    if result.exit_code != 0:
        state = "timed out" if result.exit_code is None else f"exit {result.exit_code}"
        raise DomainError(
            "sshSetupFailed",
            f"{what} in {info.name} failed ({state}): {result.output.strip()[-300:]}",
        )
    return result.output


def inject_key(engine: Engine, info: ContainerInfo, public_key: str) -> None:
    """Our public key in /home/agent/.ssh/authorized_keys (0600, dir 0700, owned by agent)."""
    argv = ["sh", "-c", _INJECT_KEY, "containai-inject-key", public_key]
    _exec(engine, info, argv, hostconfig.SSH_USER, "Adding the SSH key")


def host_keys(engine: Engine, info: ContainerInfo) -> list[HostKey]:
    """The container's sshd host keys, read through the engine rather than the network.

    Unlike a keyscan of the port, this cannot be fooled by another process that took the
    port: the login check afterwards proves the sshd on the port holds these keys.
    """
    keys = known_hosts.parse_keys(
        _exec(engine, info, ["sh", "-c", _HOST_KEYS], "", "Reading host keys")
    )
    if not keys:
        raise DomainError(
            "sshSetupFailed", f"No SSH host keys found in {info.name} (/etc/ssh/ssh_host_*_key.pub)"
        )
    return keys


def banner(port: int, timeout_s: float, channel: list[str] | None = None) -> bool:
    """Whether sshd answers on 127.0.0.1:<port> with its `SSH-` greeting; on a remote
    engine's 127.0.0.1 through `channel`, a command whose stdout is that connection.

    A bare TCP connect is not enough: docker-proxy accepts connections for a published
    port even while nothing listens inside the container.
    """
    if channel is not None:
        return _banner_through(channel, timeout_s)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
            data = b""
            while len(data) < 4 and b"\n" not in data:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return False
    return data.startswith(b"SSH-")


def _banner_through(argv: list[str], timeout_s: float) -> bool:
    """The first bytes read from `argv`'s stdout within `timeout_s` start with `SSH-`."""
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return False
    data = b""
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while len(data) < 4 and b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                break
            chunk = proc.stdout.read1(256)
            if not chunk:
                break
            data += chunk
    proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()
    return data.startswith(b"SSH-")


def login(name: str, config: str) -> None:
    """A BatchMode key login with our host config, or `sshSetupFailed` with ssh's reason."""
    argv = [
        "ssh",
        "-F",
        config,
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=5",
        "-o",
        "ServerAliveInterval=2",
        "-o",
        "ServerAliveCountMax=2",
        name,
        "true",
    ]
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=LOGIN_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise DomainError(
            "sshSetupFailed",
            "The OpenSSH client (ssh) is not installed",
            hint="Install it (e.g. apt-get install openssh-client).",
        ) from None
    except subprocess.TimeoutExpired:
        raise DomainError(
            "sshSetupFailed", f"SSH login to {name} did not finish within {LOGIN_TIMEOUT_S:.0f} s"
        ) from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise DomainError(
            "sshSetupFailed",
            f"SSH login to {name} failed: {detail[0]}",
            hint=f"Try it yourself: ssh -v -F {config} {name}",
        )


def remove_access(name: str, port: int | None) -> None:
    """Forget a removed container: its host config and its known_hosts entries.

    Without a port (label lost) the one in the host config file is used.
    """
    configured = hostconfig.remove_host_config(name)
    port = configured if port is None else port
    if port is not None:
        known_hosts.forget(port, name)

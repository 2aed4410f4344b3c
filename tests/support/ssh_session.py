"""Real SSH sessions into a test container, as `agent` with a key of the test's own."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Any

from tests.support.waiting import poll

OPTIONS = ("BatchMode=yes", "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null")


def wait_sshd(port: int, timeout_s: float = 60.0) -> None:
    """Until sshd on 127.0.0.1:`port` sends its banner (no event says so: poll)."""

    def banner() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    poll(banner, f"sshd on 127.0.0.1:{port}", timeout_s)


def authorize_key(sandbox: Any, name: str) -> Path:
    """The test's own key (made once per sandbox), authorised for `agent` in `name`."""
    key = sandbox.root / "id_test"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    pub = key.with_suffix(".pub").read_text().strip()
    code, out = sandbox.client.containers.get(name).exec_run(
        ["sh", "-c", f"printf '%s\\n' '{pub}' >> .ssh/authorized_keys"],
        user="agent",
        workdir="/home/agent",
    )
    assert code == 0, out
    return key


def open_session(key: Path, port: int, *, pty: bool = False) -> subprocess.Popen[bytes]:
    """`ssh … agent@127.0.0.1 sleep 600`: a session that stays open until terminated."""
    options = ["-F", "/dev/null", "-i", str(key), "-p", str(port), "-o", "IdentitiesOnly=yes"]
    for option in (*OPTIONS, "LogLevel=ERROR"):
        options += ["-o", option]
    return subprocess.Popen(
        ["ssh", *options, "-tt" if pty else "-T", "agent@127.0.0.1", "sleep 600"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

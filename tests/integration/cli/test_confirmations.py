"""Scripts and prompts written for the original work on ours (real engine, sshd image).

One running container with an open SSH session: `status --json` in the original's schema,
then every way `cai stop` can be answered — no terminal, EOF and "no" at the prompt on a
pty, `CAI_YES=1`, `--yes` — and `status --json` on the stopped container.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.engines import SYSTEMD_IMAGE as SSHD_IMAGE
from tests.support.terminal import cai_on_pty

pytestmark = pytest.mark.engine


def poll(check: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)  # polling interval; the deadline bounds the wait
    pytest.fail(f"timed out waiting for {what}; last: {last!r}")


def cai(sandbox: Any, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """`cai` with stdin at EOF (`</dev/null`): no terminal anywhere."""
    return subprocess.run(
        [sys.executable, "-m", "containai_rpc.cli", *args],
        cwd=cwd or sandbox.root,
        env={**sandbox.env, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _open_session(sandbox: Any, name: str, port: int) -> subprocess.Popen[bytes]:
    """A real SSH session as `agent` with a key of the test's own."""
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

    def banner() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    poll(banner, f"sshd on 127.0.0.1:{port}")
    options = ["-F", "/dev/null", "-i", str(key), "-p", str(port), "-o", "IdentitiesOnly=yes"]
    for option in (
        "BatchMode=yes",
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "LogLevel=ERROR",
    ):
        options += ["-o", option]
    return subprocess.Popen(
        ["ssh", *options, "-T", "agent@127.0.0.1", "sleep 600"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def sessions() -> Iterator[list[subprocess.Popen[bytes]]]:
    opened: list[subprocess.Popen[bytes]] = []
    yield opened
    for proc in opened:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def _running_with_session(sandbox: Any, ws: Path, sessions: list) -> dict[str, Any]:
    """Start the container, open a session, return the first status showing it."""
    run = _json(cai(sandbox, "run", "--json", cwd=ws))
    name, port = run["containerName"], run["container"]["sshPort"]
    assert port is not None
    sessions.append(_open_session(sandbox, name, port))

    def counted() -> dict[str, Any] | None:
        assert sessions[-1].poll() is None, sessions[-1].stderr.read()
        out = _json(cai(sandbox, "status", "--json", cwd=ws))
        return out if out.get("sessions", {}).get("ssh_connections", 0) >= 1 else None

    return poll(counted, "the ssh session in cai status --json")


def _state(sandbox: Any) -> str:
    [container] = sandbox.containers()
    container.reload()
    return container.status


def test_original_scripts_and_prompts_work_on_ours(sandbox, sessions):
    sandbox.env["CONTAINAI_IMAGE"] = SSHD_IMAGE
    sandbox.env.pop("CAI_YES", None)
    ws = sandbox.workspace("compat")

    # A script written for the original, on a running container.
    running = _running_with_session(sandbox, ws, sessions)
    assert running["status"] == "running"
    assert isinstance(running["sessions"]["ssh_connections"], int)
    assert isinstance(running["sessions"]["active_terminals"], int)
    assert running["resources"]["cpu_percent"].endswith("%")
    float(running["resources"]["cpu_percent"].rstrip("%"))
    assert running["resources"]["memory_usage"][-1] == "B"
    assert running["resources"]["memory_percent"].endswith("%")
    assert running["uptime"].endswith("m")
    assert running["container"] == sandbox.containers()[0].name
    assert None not in running.values()

    # No terminal and no --yes: refused, naming --yes and CAI_YES=1; nothing stopped.
    refused = cai(sandbox, "stop", cwd=ws)
    assert refused.returncode == 1, refused.stderr
    assert "--yes" in refused.stderr and "CAI_YES=1" in refused.stderr
    assert _state(sandbox) == "running"

    # EOF (Ctrl-D) at the prompt: `Cancelled.`, exit 0, still running.
    code, seen = cai_on_pty(sandbox, ws, "stop", answer=b"\x04")
    assert "may have active sessions" in seen and "Cancelled." in seen
    assert code == 0, seen
    assert _state(sandbox) == "running"

    # "n": declined, exit 1, still running.
    code, seen = cai_on_pty(sandbox, ws, "stop", answer=b"n\n")
    assert code == 1, seen
    assert _state(sandbox) == "running"

    # CAI_YES=1 answers yes.
    yes_env = cai(sandbox, "stop", env={"CAI_YES": "1"}, cwd=ws)
    assert yes_env.returncode == 0, yes_env.stderr
    assert _state(sandbox) == "exited"

    # The same script on the stopped container.
    stopped = _json(cai(sandbox, "status", "--json", cwd=ws))
    assert stopped["status"] == "exited"
    assert {"container", "status", "image"} <= set(stopped)
    for absent in ("uptime", "sessions", "resources"):
        assert absent not in stopped
    assert None not in stopped.values()

    # --yes answers yes too (a fresh session after the restart).
    for proc in sessions:
        proc.terminate()
        proc.wait(timeout=10)
    _running_with_session(sandbox, ws, sessions)
    yes_flag = cai(sandbox, "stop", "--yes", cwd=ws)
    assert yes_flag.returncode == 0, yes_flag.stderr
    assert _state(sandbox) == "exited"

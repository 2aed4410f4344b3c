"""Scripts and prompts written for the original work on ours (real engine, sshd image).

One running container with an open SSH session: `status --json` in the original's schema,
then every way `cai stop` can be answered — no terminal, EOF and "no" at the prompt on a
pty, `CAI_YES=1`, `--yes` — and `status --json` on the stopped container.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.engines import SYSTEMD_IMAGE as SSHD_IMAGE
from tests.support.ssh_session import authorize_key, open_session, wait_sshd
from tests.support.terminal import cai_on_pty
from tests.support.waiting import poll

pytestmark = pytest.mark.engine


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
    key = authorize_key(sandbox, name)
    wait_sshd(port)
    return open_session(key, port)


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

    return poll(counted, "the ssh session in cai status --json", 60.0)


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

"""The shared server (`containai-rpc --listen`) in a test's sandbox: turned on for that
sandbox only (its own XDG_RUNTIME_DIR, never the user's), a short idle time, and every
server it started stopped afterwards (`cai server stop --all`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REMOTE_COMMAND = [sys.executable, "-m", "containai_rpc", "--remote", "auto"]


def shared_env(sandbox: Any, idle_s: float = 30.0) -> dict[str, str]:
    """The sandbox's environment with the shared server on (for subprocesses only)."""
    return {**sandbox.env, "CONTAINAI_SHARED_SERVER": "1", "CONTAINAI_SERVER_IDLE": str(idle_s)}


def runtime_dir(env: dict[str, str]) -> Path:
    return Path(env["XDG_RUNTIME_DIR"]) / "containai"


def cai(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "containai_rpc.cli", *args],
        env=env,
        cwd=cwd or env["HOME"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def server_status(env: dict[str, str]) -> dict[str, Any]:
    done = cai(env, "server", "status", "--json")
    assert done.returncode == 0, done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    return status


def stop_all(env: dict[str, str]) -> None:
    cai(env, "server", "stop", "--all")


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"

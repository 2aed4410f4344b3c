"""Idle auto-stop on the real engine: workspaces with a short idle period, and reading
what the container and Docker say (no sleeps: every wait polls with a deadline)."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from containai_rpc.core.idle import STATE_FILE
from tests.support.engines import ROOT, SYSTEMD_IMAGE

PERIOD_S = 20
CHECK_S = 2
IDLE_UNIT = "/etc/systemd/system/containai-idle.service"


def ensure_idle_images(client: Any) -> None:
    """The systemd images carry the idle check (scripts/images.sh installs it); rebuild
    them from this tree when they were built without it."""
    for image in ("containai-test-systemd:latest", SYSTEMD_IMAGE):
        try:
            client.containers.run(
                image, ["test", "-x", "/usr/local/lib/containai/idle"], entrypoint=[], remove=True
            )
        except Exception:  # missing or stale: build
            subprocess.run([str(ROOT / "scripts" / "images.sh")], check=True, timeout=600)
            return


def configure(sandbox: Any, idle_stop: str | None = f"{PERIOD_S}s") -> None:
    """User config: the systemd product image, the idle policy (None: unset, the
    default), checks every CHECK_S."""
    sandbox.env["CONTAINAI_IMAGE"] = SYSTEMD_IMAGE
    text = sandbox.config_file.read_text() + f'\n[lifecycle]\nidle_check = "{CHECK_S}s"\n'
    if idle_stop is not None:
        text += f'idle_stop = "{idle_stop}"\n'
    sandbox.config_file.write_text(text)


def run(sandbox: Any, name: str, *extra: str) -> dict[str, Any]:
    """`cai run` of a new workspace on its own data volume; the CLI process has exited
    when this returns."""
    ws = sandbox.workspace(name)
    volume = f"{sandbox.volume}-{name}"
    proc = sandbox.cai("run", "--json", "--data-volume", volume, *extra, cwd=ws)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    result["_workspace"] = ws
    return result


@dataclass
class Exit:
    status: str
    exit_code: int
    oom_killed: bool
    started_at: datetime
    finished_at: datetime


def docker_state(sandbox: Any, name: str) -> Exit:
    state = sandbox.client.api.inspect_container(name)["State"]
    return Exit(
        state["Status"],
        state["ExitCode"],
        state["OOMKilled"],
        _time(state["StartedAt"]),
        _time(state["FinishedAt"]),
    )


def _time(value: str) -> datetime:
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def idle_state(sandbox: Any, name: str) -> dict[str, int]:
    """The container's idle check state file, as numbers ({} before its first check)."""
    code, out = sandbox.client.containers.get(name).exec_run(["cat", STATE_FILE])
    if code != 0:
        return {}
    return {k: int(v) for k, _, v in (x.partition("=") for x in out.decode().split())}


def stays_running(sandbox: Any, name: str, seconds: float) -> float:
    """Watch the container for `seconds`; fail the moment it is not running. The time
    watched."""
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        state = docker_state(sandbox, name)
        assert state.status == "running", f"{name} stopped after {elapsed:.1f} s: {state}"
        time.sleep(0.5)  # polling interval of a watch that must see no change
    return elapsed


def wait_exited(sandbox: Any, name: str, timeout_s: float) -> Exit:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = docker_state(sandbox, name)
        if state.status == "exited":
            return state
        time.sleep(0.2)  # polling interval; the deadline bounds the wait
    raise AssertionError(f"{name} did not stop by itself within {timeout_s} s")

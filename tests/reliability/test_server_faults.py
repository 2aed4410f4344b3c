"""Server faults: the server process is SIGKILLed at an exact step of `run` and `reset`.

A kill is what a crash, the OOM killer or a closed laptop lid does: no cleanup code runs.
The next server must converge on its first call — a created-but-never-started container is
adopted and started, a lock held by the dead process does not block (filelock's `flock`
dies with its owner; the lock *file* stays), the state file is intact — and no volume or
file of the user is lost.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from tests.support.raw_client import Message, RawServer
from tests.support.reliability import TALLY, check_volumes_kept

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"
COMMENT = "# my own notes: keep this line\n"


class KillServerAt:
    """SIGKILL the server the moment it reports a progress step starting with `step`."""

    def __init__(self, server: RawServer, step: str) -> None:
        self.server = server
        self.step = step
        self.fired = False

    def __call__(self, message: Message) -> None:
        value = message.params.get("value") if isinstance(message.params, dict) else None
        text = str(value.get("message") or "") if isinstance(value, dict) else ""
        if message.method == "$/progress" and text.startswith(self.step) and not self.fired:
            self.fired = True
            self.server.kill()
            TALLY["faults: server SIGKILL"] += 1


def _kill_during(servers: Any, sandbox: Any, step: str, params: dict[str, Any]) -> RawServer:
    server = servers(sandbox.env, sandbox.root)
    killer = KillServerAt(server, step)
    server.on_notification = killer
    server.send(
        {
            "jsonrpc": "2.0",
            "id": "doomed",
            "method": "containai/run",
            "params": {**params, "workDoneToken": "doomed"},
        }
    )
    server.proc.wait(timeout=120)
    assert killer.fired, f"the server was never at {step!r}"
    assert "doomed" not in server.responses  # it died before answering
    return server


def _mine(sandbox: Any, ws: Path) -> list[Any]:
    return [c for c in sandbox.containers() if c.labels["containai.workspace"] == str(ws)]


def _state(sandbox: Any, ws: Path) -> dict[str, Any]:
    return tomllib.loads(sandbox.config_file.read_text())["workspace"][str(ws)]


def _assert_locks_free(sandbox: Any) -> None:
    """Every lock file left behind is free: acquirable at once, without waiting."""
    files = list(sandbox.config_file.parent.rglob("*.lock"))
    assert files, "no lock file was ever created: the test did not exercise locking"
    for path in files:
        lock = FileLock(str(path))
        lock.acquire(timeout=0)
        lock.release()


def _with_comment(sandbox: Any) -> None:
    sandbox.config_file.write_text(COMMENT + sandbox.config_file.read_text())


@pytest.mark.parametrize("step", ["Creating container", "Starting container"])
def test_server_killed_mid_run_next_server_converges(sandbox, servers, step):
    ws = sandbox.workspace("srvkill")
    _with_comment(sandbox)
    _kill_during(servers, sandbox, step, {"workspace": str(ws)})
    half = _mine(sandbox, ws)
    assert len(half) <= 1 and all(c.status in ("created", "running") for c in half), half
    _assert_locks_free(sandbox)

    server = servers(sandbox.env, sandbox.root)
    result = server.result("containai/run", {"workspace": str(ws)}, timeout=60)
    [container] = _mine(sandbox, ws)
    assert container.status == "running"
    if half:  # the half-made container was adopted, not replaced or duplicated
        assert container.id == half[0].id
        assert result["action"] in ("start", "attach")
    assert _state(sandbox, ws)["container_name"] == container.name
    assert sandbox.config_file.read_text().startswith(COMMENT)


@pytest.mark.parametrize("step", ["Preparing data volume", "Starting container"])
def test_server_killed_mid_reset_next_server_converges(sandbox, servers, step):
    ws = sandbox.workspace("srvreset")
    _with_comment(sandbox)
    server = servers(sandbox.env, sandbox.root)
    first = server.result("containai/run", {"workspace": str(ws)}, timeout=60)
    sandbox.client.containers.get(first["containerName"]).exec_run(
        ["sh", "-c", "echo precious > /mnt/agent-data/marker"]
    )
    server.close()

    _kill_during(servers, sandbox, step, {"workspace": str(ws), "reset": True})
    for volume in sandbox.client.volumes.list():
        if volume.name.startswith("srvreset-main-"):
            sandbox.extra_volumes.add(volume.name)
    _assert_locks_free(sandbox)

    # The next plain run works on whatever the workspace's volume now is, with one container.
    server = servers(sandbox.env, sandbox.root)
    again = server.result("containai/run", {"workspace": str(ws)}, timeout=60)
    [container] = _mine(sandbox, ws)
    assert container.status == "running" and container.name == first["containerName"]
    state = _state(sandbox, ws)
    assert state["container_name"] == container.name
    assert again["dataVolume"] == state.get("data_volume", sandbox.volume)
    mounted = {m["Destination"]: m.get("Name") for m in container.attrs["Mounts"]}
    assert mounted["/mnt/agent-data"] == again["dataVolume"]
    # A reset run again completes; the first volume and its content are still there.
    done = server.result("containai/run", {"workspace": str(ws), "reset": True}, timeout=60)
    sandbox.extra_volumes.add(done["dataVolume"])
    assert _state(sandbox, ws)["data_volume"] == done["dataVolume"]
    out = sandbox.client.containers.run(
        TINY,
        ["cat", "/v/marker"],
        volumes={sandbox.volume: {"bind": "/v", "mode": "ro"}},
        remove=True,
    )
    assert out.decode().strip() == "precious"
    assert sandbox.config_file.read_text().startswith(COMMENT)
    check_volumes_kept(sandbox.client, {sandbox.volume, *sandbox.extra_volumes})

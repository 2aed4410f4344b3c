"""Engine faults: the dedicated test engine is SIGKILLed at an exact step of an operation.

The step is a real `$/progress` report of the request (read by the raw client the moment
it arrives), not a timer: during `run`'s create, during `fresh` between the removal and the
creation, during `gc`'s removals. Afterwards the engine is restarted on the same data root
and the server — the same process throughout — must: answer, report `engineStatus` error
then ok, converge on the next `run` to one working container per workspace, have lost no
volume (nor its content), and keep the workspace state consistent.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import server as test_server
from tests.support.raw_client import Message, RawServer
from tests.support.reliability import (
    TALLY,
    check_untouched,
    check_volumes_kept,
    container_fingerprint,
    volume_names,
)

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"
ENGINE_STATUS = "containai/engineStatus"
RECOVERY_TIMEOUT_S = 60.0


class KillAt:
    """SIGKILL the engine at the first progress report starting with `step` (once)."""

    def __init__(self, engine: Any, step: str) -> None:
        self.engine = engine
        self.step = step
        self.fired = threading.Event()
        self.seen: list[str] = []

    def __call__(self, message: Message) -> None:
        value = message.params.get("value") if isinstance(message.params, dict) else None
        if message.method != "$/progress" or not isinstance(value, dict):
            return
        text = str(value.get("message") or "")
        self.seen.append(text)
        if text.startswith(self.step) and not self.fired.is_set():
            self.fired.set()
            self.engine.stop(kill=True)
            TALLY["faults: engine SIGKILL"] += 1


def _health_after(server: RawServer, start: int, health: str) -> None:
    """Wait for an engineStatus with `health` pushed after notification index `start`."""
    server.wait_notification(
        lambda m: m.method == ENGINE_STATUS and m.params.get("health") == health,
        RECOVERY_TIMEOUT_S,
        start,
    )


def _mark(server: RawServer) -> int:
    return len(server.notifications)


def _restart(engine: Any) -> None:
    """Restart the killed engine on its data root (the fixture waits out its containerd)."""
    engine.start()
    TALLY["engine restarts"] += 1


def _faulted_request(
    server: RawServer, engine: Any, step: str, method: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Send the request with a progress token; kill the engine at `step`; its answer."""
    killer = KillAt(engine, step)
    server.on_notification = killer
    response = server.request(method, {**params, "workDoneToken": f"t-{step}"}, timeout=120)
    server.on_notification = None
    assert killer.fired.is_set(), f"step {step!r} never reported; saw {killer.seen}"
    outcome = "a result" if "result" in response else response["error"].get("data")
    print(f"engine killed at {step!r}: {method} answered {outcome}")
    return response


def _expect_engine_failure(response: dict[str, Any]) -> None:
    """Killed mid-way, the request fails with an engine reason, not an internal error."""
    if "result" in response:
        return  # it finished its Docker calls before the kill landed: also fine
    reason = (response["error"].get("data") or {}).get("reason")
    assert response["error"]["code"] == -32803, response
    assert reason in ("engineUnavailable", "engineError"), response


def _converged(server: RawServer, client: Any, ws: Path, config: Path) -> dict[str, Any]:
    """`run` again: one running managed container for `ws`, named as the state says."""
    result = server.result("containai/run", {"workspace": str(ws)}, timeout=120)
    mine = client.containers.list(
        all=True, filters={"label": [f"containai.workspace={ws}", "containai.managed=true"]}
    )
    assert [c.name for c in mine] == [result["containerName"]], mine
    assert mine[0].status == "running"
    state = tomllib.loads(config.read_text())
    assert state["workspace"][str(ws)]["container_name"] == result["containerName"]
    return result


def _marker(client: Any, volume: str) -> str:
    return client.containers.run(
        TINY, ["cat", "/v/marker"], volumes={volume: {"bind": "/v", "mode": "ro"}}, remove=True
    ).decode()


@pytest.fixture
def world(sandbox, dedicated_engine, servers) -> Callable[..., tuple[RawServer, Any]]:
    """A server on the dedicated engine, asking for progress; and that engine's client.
    `command`: another server command (a test entry point)."""

    def make(command: list[str] | None = None) -> tuple[RawServer, Any]:
        env = {**sandbox.env, "DOCKER_HOST": dedicated_engine.host}
        capabilities = {"window": {"workDoneProgress": True}}
        server = servers(env, sandbox.root, capabilities=capabilities, command=command)
        _health_after(server, 0, "ok")
        return server, dedicated_engine.client()

    return make


def _recover(server: RawServer, engine: Any, since: int) -> None:
    """The server stays up and says the engine is gone; after a restart, that it is back."""
    server.assert_serving()
    _health_after(server, since, "error")
    back = _mark(server)
    _restart(engine)
    _health_after(server, back, "ok")


def test_engine_killed_during_create(sandbox, dedicated_engine, world):
    server, client = world()
    ws = sandbox.workspace("killcreate")
    since = _mark(server)
    response = _faulted_request(
        server, dedicated_engine, "Creating container", "containai/run", {"workspace": str(ws)}
    )
    _expect_engine_failure(response)
    _recover(server, dedicated_engine, since)
    client = dedicated_engine.client()
    _converged(server, client, ws, sandbox.config_file)
    assert sandbox.volume in volume_names(client)
    check_volumes_kept(client, {sandbox.volume})


def test_engine_killed_during_fresh_between_remove_and_create(sandbox, dedicated_engine, world):
    server, client = world()
    ws = sandbox.workspace("killfresh")
    first = _converged(server, client, ws, sandbox.config_file)
    client.containers.get(first["containerName"]).exec_run(
        ["sh", "-c", "echo precious > /mnt/agent-data/marker"]
    )
    volumes = volume_names(client)
    since = _mark(server)
    response = _faulted_request(
        server,
        dedicated_engine,
        "Preparing data volume",  # reported after the old container is gone
        "containai/run",
        {"workspace": str(ws), "fresh": True},
    )
    _expect_engine_failure(response)
    _recover(server, dedicated_engine, since)
    client = dedicated_engine.client()
    again = _converged(server, client, ws, sandbox.config_file)
    assert again["containerName"] == first["containerName"]
    assert again["dataVolume"] == first["dataVolume"]
    check_volumes_kept(client, volumes)
    assert _marker(client, first["dataVolume"]).strip() == "precious"


def test_engine_killed_during_gc(sandbox, dedicated_engine, world, monkeypatch):
    # gc's clock is set far ahead, so the containers stopped a moment ago are "old".
    server, client = world(test_server.command(now="2100-01-01T00:00:00+00:00"))
    names = []
    for n in range(3):
        ws = sandbox.workspace(f"gc{n}")
        names.append(_converged(server, client, ws, sandbox.config_file)["containerName"])
    server.result("containai/stop", {"all": True, "force": True}, timeout=60)
    stranger = client.containers.create(TINY, name="old-stranger", labels={"owner": "someone"})
    foreign = container_fingerprint(client, [stranger.id])
    volumes = volume_names(client)
    since = _mark(server)
    response = _faulted_request(
        server,
        dedicated_engine,
        "Removing container",
        "containai/gc",
        {"force": True, "age": "1d"},
    )
    _expect_engine_failure(response)
    _recover(server, dedicated_engine, since)
    client = dedicated_engine.client()
    done = server.result("containai/gc", {"force": True, "age": "1d"}, timeout=120)
    left = client.containers.list(all=True, filters={"label": "containai.managed=true"})
    assert left == [], (done, left)
    check_untouched(client, foreign)
    check_volumes_kept(client, volumes)
    # The state file still names the removed containers; the next run recreates cleanly.
    ws = sandbox.root / "ws" / "gc0"
    assert _converged(server, client, ws, sandbox.config_file)["containerName"] == names[0]

"""Idle auto-stop seen by a connected client: the server carries the countdown in
snapshots and `status`, warns before the stop (`containai/idleWarning`), postpones it on
request (`containai/postponeIdleStop`, the editor's "Keep Running") and marks the stop
that follows with `reason: "idle"`. The real server on the real engine; the stop itself
is the container's own (20 s period)."""

from __future__ import annotations

from datetime import datetime

import pytest

from containai_rpc.protocol.idle import IdleWarning
from containai_rpc.server.notify import CONTAINER_CHANGED, NAMES
from tests.support.idle_engine import CHECK_S, PERIOD_S, configure, ensure_idle_images
from tests.support.lsp_client import start_server, stop_server

pytestmark = pytest.mark.engine

IDLE_WARNING = NAMES[IdleWarning]
WAIT_S = PERIOD_S + 4 * CHECK_S + 30


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_warning_postpone_and_the_idle_reason(sandbox):
    ensure_idle_images(sandbox.client)
    configure(sandbox)
    workspace = sandbox.workspace("warned")
    client = await start_server(dict(sandbox.env))
    try:
        ran = await client.request("containai/run", {"workspace": str(workspace)})
        name = ran["containerName"]

        def ours(p):
            return p.get("containerName", p.get("container", {}).get("name")) == name

        counting = await client.expect(
            CONTAINER_CHANGED, lambda p: ours(p) and p["container"].get("autoStopAt"), WAIT_S
        )
        assert counting["kind"] == "updated"
        assert counting["container"]["idleStop"] == f"{PERIOD_S}s"
        assert counting["container"]["idleSince"]
        status = await client.request("containai/status", {"container": name})
        assert status["idleStop"] == f"{PERIOD_S}s" and status["autoStopAt"]

        first = await client.expect(IDLE_WARNING, ours, WAIT_S)
        assert first["context"] == ran["context"]
        postponed = await client.request("containai/postponeIdleStop", {"container": name})
        assert postponed["idleStop"] == f"{PERIOD_S}s"
        assert _at(postponed["autoStopAt"]) > _at(first["autoStopAt"])

        second = await client.expect(IDLE_WARNING, ours, WAIT_S)  # the new stop time
        assert _at(second["autoStopAt"]) >= _at(postponed["autoStopAt"])
        stopped = await client.expect(
            CONTAINER_CHANGED, lambda p: ours(p) and p["kind"] == "stopped", WAIT_S
        )
        assert stopped["reason"] == "idle"
        assert "autoStopAt" not in stopped["container"]
        finished = _at(stopped["container"]["finishedAt"])
        assert finished >= _at(postponed["autoStopAt"]).replace(microsecond=0)
        print(
            f"warned {first['autoStopAt']}, postponed to {postponed['autoStopAt']}, "
            f"stopped {stopped['container']['finishedAt']}"
        )
    finally:
        await stop_server(client)


async def test_a_stop_by_hand_has_no_idle_reason(sandbox):
    """`cai stop` (or `docker stop`) of a container with idle stop on: no `idle`."""
    ensure_idle_images(sandbox.client)
    configure(sandbox)
    workspace = sandbox.workspace("byhand")
    client = await start_server(dict(sandbox.env))
    try:
        ran = await client.request("containai/run", {"workspace": str(workspace)})
        name = ran["containerName"]
        await client.request("containai/stop", {"container": name, "force": True})
        stopped = await client.expect(
            CONTAINER_CHANGED,
            lambda p: p["container"]["name"] == name and p["kind"] == "stopped",
            WAIT_S,
        )
        assert "reason" not in stopped
    finally:
        await stop_server(client)

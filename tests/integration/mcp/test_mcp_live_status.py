"""The status resource on the real engine: a subscriber (either protocol era) hears of a
`docker stop` run from outside as a resource-updated notification. The latency (from the
container's exit, Docker's `State.FinishedAt`, to the notification) is measured and
printed, not asserted."""

from __future__ import annotations

import json
import time
from datetime import datetime

import anyio
import mcp_types as types
import pytest

from containai_rpc.mcp_server.live import status_uri

pytestmark = pytest.mark.engine
DEADLINE_S = 30.0  # only a bound for a lost notification; the latency is reported


def stop_outside(box, name: str) -> None:
    """`docker stop` as another program would (the engine, not our service)."""
    box.client.containers.get(name).stop(timeout=5)


def report(box, name: str, era: str, heard_at: float) -> None:
    """Print the latency from the container's exit (Docker's clock) to the notification."""
    finished = box.client.containers.get(name).attrs["State"]["FinishedAt"]
    exited = datetime.fromisoformat(finished[:26].rstrip("Z") + "+00:00").timestamp()
    print(f"\n{era}: resources/updated {(heard_at - exited) * 1000:.0f} ms after the exit")


# the SDK warns that subscribe is gone from the newer protocol: this is the older one on purpose
LEGACY_SUBSCRIBE = (
    "ignore:resources/subscribe is removed:mcp.shared.exceptions.MCPDeprecationWarning"
)


@pytest.mark.filterwarnings(LEGACY_SUBSCRIBE)
async def test_legacy_subscription_hears_docker_stop(mcp_box, open_client):
    ws = mcp_box.workspace("app")
    uri = status_uri(str(ws))
    updates: list[tuple[str, float]] = []
    heard = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append((message.params.uri, time.time()))
            heard.set()

    async with open_client(ws, mode="legacy", message_handler=on_message) as client:
        run = (await client.call_tool("containai_run", {})).structured_content
        listed = [r.uri for r in (await client.list_resources()).resources]
        assert listed == [uri]
        before = json.loads((await client.read_resource(uri)).contents[0].text)
        assert before["status"] == "running"
        await client.session.subscribe_resource(uri)
        await anyio.to_thread.run_sync(stop_outside, mcp_box, run["containerName"])
        with anyio.fail_after(DEADLINE_S):
            await heard.wait()
        after = json.loads((await client.read_resource(uri)).contents[0].text)
    assert updates[0][0] == uri and after["status"] == "stopped"
    report(mcp_box, run["containerName"], "legacy resources/subscribe", updates[0][1])


async def test_listen_subscription_hears_docker_stop(mcp_box, open_client):
    ws = mcp_box.workspace("app")
    uri = status_uri(str(ws))
    async with open_client(ws) as client:  # auto: 2026-07-28, subscriptions/listen
        run = (await client.call_tool("containai_run", {})).structured_content
        async with client.listen(resource_subscriptions=[uri]) as subscription:
            assert subscription.honored.resource_subscriptions == [uri]
            await anyio.to_thread.run_sync(stop_outside, mcp_box, run["containerName"])
            with anyio.fail_after(DEADLINE_S):
                event = await subscription.__anext__()
            heard_at = time.time()
        after = json.loads((await client.read_resource(uri)).contents[0].text)
    assert event.uri == uri and after["status"] == "stopped"
    report(mcp_box, run["containerName"], "subscriptions/listen", heard_at)

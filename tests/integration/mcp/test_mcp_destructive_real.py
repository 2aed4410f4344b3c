"""Destructive tools on the real engine, through the SDK's stdio client: refused without
elicitation and without `--allow-destructive`; answered "no", nothing changes; allowed by
the flag. "Nothing changes" is read from Docker itself (same id, still running)."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest

pytestmark = pytest.mark.engine


def docker_state(box, name: str) -> tuple[str, str]:
    c = box.client.containers.get(name)
    return c.id, c.status


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_refused_declined_then_allowed(mcp_box, open_client, mode):
    ws = mcp_box.workspace("app")
    async with open_client(ws, mode=mode) as client:  # no elicitation callback
        run = (await client.call_tool("containai_run", {})).structured_content
        name = run["containerName"]
        before = docker_state(mcp_box, name)
        for tool in ("containai_stop", "containai_fresh"):
            refused = await client.call_tool(tool, {})
            assert refused.is_error
            assert f"{tool} is destructive" in refused.content[0].text
            assert "Start the server with --allow-destructive" in refused.content[0].text
    assert docker_state(mcp_box, name) == before == (before[0], "running")

    asked: list[str] = []

    async def say_no(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="decline")

    async with open_client(ws, mode=mode, elicitation_callback=say_no) as client:
        for tool in ("containai_stop", "containai_fresh"):
            declined = await client.call_tool(tool, {})
            assert declined.is_error and "declined" in declined.content[0].text
    assert len(asked) == 2 and docker_state(mcp_box, name) == before

    async with open_client(ws, "--allow-destructive", mode=mode) as client:
        fresh = (await client.call_tool("containai_fresh", {})).structured_content
        assert fresh["action"] == "recreate"
        stop = (await client.call_tool("containai_stop", {})).structured_content
    assert stop["results"][0]["action"] == "stopped"
    new_id, status = docker_state(mcp_box, name)
    assert new_id != before[0] and status == "exited"
    log = (mcp_box.root / "server.log").read_text()
    assert "mcp containai_stop {}: refused/failed" in log and "mcp containai_stop {}: ok" in log

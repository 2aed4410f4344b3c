"""The official MCP client (the SDK's stdio client) against `containai-rpc --mcp` on the
real engine: tools with schemas and annotations, run then exec over real SSH in
the product image (pwd, a failure, a timeout, 10 MB of output), the log on stderr."""

from __future__ import annotations

import anyio
import pytest

from containai_rpc.mcp_server.schemas import DEFAULT_OUTPUT_BYTES
from tests.integration.mcp.conftest import use_sshd_image
from tests.support.waiting import poll

pytestmark = pytest.mark.engine

TEN_MB = 10 * 1000 * 1000


def sleeping(container) -> bool:
    """A `sleep 60` still running in the container (Docker's `top`, not our code)."""
    return any(p[-1] == "sleep 60" for p in container.top()["Processes"])


async def gone(container, what: str) -> None:
    """Poll (in a thread: the client's event loop must keep running) until it ended."""
    await anyio.to_thread.run_sync(
        poll, lambda: not sleeping(container), f"{what} to end in the container"
    )


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_run_then_exec_over_ssh(mcp_box, open_client, monkeypatch, mode):
    use_sshd_image(mcp_box, monkeypatch)
    ws = mcp_box.workspace("app")
    async with open_client(ws, mode=mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert {"containai_run", "containai_exec", "containai_status"} <= tools.keys()
        assert tools["containai_exec"].input_schema["required"] == ["command"]
        assert tools["containai_status"].annotations.read_only_hint is True
        assert tools["containai_stop"].annotations.destructive_hint is True

        run = await client.call_tool("containai_run", {})
        assert not run.is_error, run.content
        assert run.structured_content["state"] == "running"

        pwd = (await client.call_tool("containai_exec", {"command": ["pwd"]})).structured_content
        assert (pwd["exitCode"], pwd["stdout"], pwd["timedOut"]) == (
            0,
            "/home/agent/workspace\n",
            False,
        )
        who = await client.call_tool(
            "containai_exec", {"command": ["id", "-un"], "env": {"A": "1"}}
        )
        assert who.structured_content["stdout"] == "agent\n"

        failing = await client.call_tool(
            "containai_exec", {"command": ["sh", "-c", "echo oops >&2; exit 3"]}
        )
        assert not failing.is_error  # the tool worked; the command failed
        assert failing.structured_content["exitCode"] == 3
        assert failing.structured_content["stderr"] == "oops\n"

        slow = await client.call_tool(
            "containai_exec", {"command": ["sleep", "60"], "timeoutSeconds": 2}
        )
        late = slow.structured_content
        assert late["timedOut"] is True and late.get("exitCode") is None
        assert "killed after the 2 s timeout" in late["stderr"]
        assert 2 <= late["durationSeconds"] < 30
        container = mcp_box.client.containers.get(run.structured_content["containerName"])
        await gone(container, "the timed-out command")

        with anyio.move_on_after(3):  # the client gives up: the call is cancelled
            await client.call_tool("containai_exec", {"command": ["sleep", "60"]})
        await gone(container, "the cancelled command")  # the loop runs: the cancel goes out

        big = await client.call_tool(
            "containai_exec", {"command": ["sh", "-c", f"head -c {TEN_MB} /dev/zero | tr '\\0' x"]}
        )
        out = big.structured_content
        assert (out["exitCode"], out["stdoutTruncated"], out["stdoutBytes"]) == (0, True, TEN_MB)
        kept, note = out["stdout"][:DEFAULT_OUTPUT_BYTES], out["stdout"][DEFAULT_OUTPUT_BYTES:]
        assert kept == "x" * DEFAULT_OUTPUT_BYTES
        assert f"truncated: kept the first {DEFAULT_OUTPUT_BYTES} of {TEN_MB} bytes" in note

    log = (mcp_box.root / "server.log").read_text()
    assert "mcp containai_run {}: ok" in log
    assert 'mcp containai_exec {"command": ["pwd"]}: ok' in log

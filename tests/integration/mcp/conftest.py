"""The MCP face on the real engine: a sandbox with a private SSH port range, and the
server started as users start it (`python -m containai_rpc --mcp`), its stderr kept."""

from __future__ import annotations

import random
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.support.engines import SYSTEMD_IMAGE

# containai_exec needs sshd and the agent user: the product image, as the SSH tests use
# (containai-test-systemd has sshd but no agent user, so `run` cannot install our key).
SSHD_IMAGE = SYSTEMD_IMAGE

OpenClient = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def mcp_box(sandbox, monkeypatch: pytest.MonkeyPatch):
    """The sandbox in its own 30-port SSH range, on the tiny image unless a test changes
    `CONTAINAI_IMAGE` (sandbox.env is what the server process gets)."""
    start = random.randrange(20000, 29000)
    with sandbox.config_file.open("a") as f:
        f.write(f"\n[ssh]\nport_range_start = {start}\nport_range_end = {start + 29}\n")
    return sandbox


def use_sshd_image(box, monkeypatch: pytest.MonkeyPatch) -> None:
    box.env["CONTAINAI_IMAGE"] = SSHD_IMAGE
    monkeypatch.setenv("CONTAINAI_IMAGE", SSHD_IMAGE)


def server_argv(*options: str) -> list[str]:
    return [sys.executable, "-m", "containai_rpc", "--mcp", *options]


@pytest.fixture
def open_client(mcp_box) -> OpenClient:
    """`async with open_client(ws, *server_options, mode=…, **client_args) as client`: the
    official SDK's stdio client with the server in `ws`; its stderr goes to `server.log`."""

    @asynccontextmanager
    async def open_(cwd: Path, *options: str, **client_args: Any) -> AsyncIterator[Client]:
        command, *args = server_argv(*options)
        env = {**mcp_box.env, "CONTAINAI_LOG_LEVEL": "INFO"}  # the default: calls are logged
        params = StdioServerParameters(command=command, args=args, env=env, cwd=cwd)
        with (mcp_box.root / "server.log").open("a") as errlog:
            async with Client(stdio_client(params, errlog=errlog), **client_args) as client:
                yield client

    return open_

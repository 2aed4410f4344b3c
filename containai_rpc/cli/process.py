"""The server process of one CLI command, and the error its answers can carry.

A module of its own because it imports nothing heavy: `cai` starts the server with it
first and only then imports the protocol client (pygls; lsprotocol alone is about half of
the CLI's start-up), so both processes start up at the same time on two cores (bench/).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any


class RpcError(Exception):
    """An error response from the server: `reason` is `data.reason` when there is one."""

    def __init__(self, code: int, message: str, data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data if isinstance(data, dict) else {}
        self.reason = str(self.data.get("reason", "error"))


def server_command() -> list[str]:
    """`CONTAINAI_SERVER` overrides; else this interpreter runs our own server module."""
    override = os.environ.get("CONTAINAI_SERVER")
    return override.split() if override else [sys.executable, "-m", "containai_rpc"]


CONFIG_ENV = "CONTAINAI_CONFIG"
"""The server reads the user config (settings and workspace state) from this file."""


async def spawn(verbose: bool = False, config: str | None = None) -> asyncio.subprocess.Process:
    """Start the server with pipes for the protocol; its logs go to our stderr.

    `config`: a file the server uses instead of the user config for this call.
    """
    env = dict(os.environ)
    if config is not None:
        env[CONFIG_ENV] = config
    env.setdefault("CONTAINAI_LOG_LEVEL", "INFO" if verbose else "WARNING")
    return await asyncio.create_subprocess_exec(
        *server_command(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )

"""The private server of one CLI command (the fallback when the shared server cannot be
used), and the error an answer can carry. Standard library only, like all of `cai`'s
request path."""

from __future__ import annotations

import os
import subprocess
import sys

from containai_rpc.local.channel import RpcError as RpcError


def server_command() -> list[str]:
    """`CONTAINAI_SERVER` overrides; else this interpreter runs our own server module."""
    override = os.environ.get("CONTAINAI_SERVER")
    return override.split() if override else [sys.executable, "-m", "containai_rpc"]


CONFIG_ENV = "CONTAINAI_CONFIG"
"""The server reads the user config (settings and workspace state) from this file."""


def spawn(verbose: bool = False, config: str | None = None) -> subprocess.Popen[bytes]:
    """Start a private stdio server with pipes for the protocol; its logs go to our stderr.

    `config`: a file the server uses instead of the user config for this call.
    """
    env = dict(os.environ)
    if config is not None:
        env[CONFIG_ENV] = config
    env.setdefault("CONTAINAI_LOG_LEVEL", "INFO" if verbose else "WARNING")
    return subprocess.Popen(
        server_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )

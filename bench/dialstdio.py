"""The previous ssh:// transport, kept as the bench's baseline: docker-py's shell-out
adapter, a new `ssh … docker system dial-stdio` per connection.

docker-py binds `SSHHTTPAdapter` only if `docker.transport.sshconn` imported, and that
module imports paramiko at its top, which the lock does not install: it is imported once
with an empty stand-in for paramiko. This used to be the server's transport
(`engine/ssh_transport.py`); the server now keeps one SSH connection per context.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

import docker
import docker.api.client

from containai_rpc.engine import DockerEngine, EngineSet


def _load() -> None:
    if hasattr(docker.api.client, "SSHHTTPAdapter"):
        return
    had, previous = "paramiko" in sys.modules, sys.modules.get("paramiko")
    sys.modules["paramiko"] = ModuleType("paramiko")
    try:
        sshconn = importlib.import_module("docker.transport.sshconn")
    finally:
        if had:
            sys.modules["paramiko"] = previous  # type: ignore[assignment]
        else:
            del sys.modules["paramiko"]
    docker.api.client.SSHHTTPAdapter = sshconn.SSHHTTPAdapter  # type: ignore[attr-defined]


def connect(
    context: str, endpoint: str, *, connect_timeout_s: float, **client_kwargs: Any
) -> DockerEngine:
    """An `EngineSet` connector that reaches ssh:// endpoints by per-connection dial-stdio
    (the `EngineSet` has already swapped in its own socket: use the endpoint itself)."""
    _load()
    client = docker.DockerClient(
        base_url=endpoint, use_ssh_client=True, timeout=120, version="auto"
    )
    return DockerEngine(context, endpoint, client)


class _NoTunnel:
    """Stands in for the SSH connection an `EngineSet` would open: none is needed."""

    socket = "/nonexistent"

    def open(self, timeout_s: float) -> None:
        return None

    def alive(self) -> bool:
        return True

    def describe(self) -> str:
        return "a new ssh … docker system dial-stdio per connection"

    def close(self) -> None:
        return None


class DialStdioEngines(EngineSet):
    """An `EngineSet` on the previous transport, for the side-by-side runs."""

    def __init__(self, configured: str) -> None:
        super().__init__(configured, connector=connect)

    def _tunnel(self, context: str, endpoint: str) -> Any:
        return _NoTunnel()

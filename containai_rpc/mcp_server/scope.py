"""Which workspaces the MCP tools may act on, and which one a call means.

The allowed set is the workspaces the server was started with (`--workspace`), else the
client's roots (when it lists any), else the server's working directory. A call acts on
the first one unless it names another allowed one: any other path is refused, so an agent
cannot reach containers of workspaces its user did not give it.
"""

from __future__ import annotations

import logging

from containai_rpc.errors import DomainError
from containai_rpc.mcp_server.asking import Asker
from containai_rpc.workspace.paths import normalize_path

log = logging.getLogger("containai_rpc.mcp")


class Refused(Exception):
    """A call the MCP face will not carry out; the message says why and what to do."""


class Scope:
    def __init__(self, configured: list[str], *, explicit: bool) -> None:
        self.configured = [normalize_path(p) for p in configured]
        self.explicit = explicit

    async def allowed(self, asker: Asker | None) -> list[str]:
        if self.explicit or asker is None or not asker.can_list_roots:
            return self.configured
        roots = []
        for path in await asker.roots():
            try:
                roots.append(normalize_path(path))
            except DomainError as exc:
                log.warning("ignoring client root %r: %s", path, exc.message)
        return roots or self.configured

    @staticmethod
    def pick(allowed: list[str], requested: str | None) -> str:
        if requested is None:
            return allowed[0]
        path = normalize_path(requested)
        if path not in allowed:
            raise Refused(
                f"Workspace {path} is not one this MCP server may act on; allowed: "
                f"{', '.join(allowed)} (the client's roots, or the server's --workspace "
                "options, else its working directory)."
            )
        return path

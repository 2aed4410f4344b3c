"""The MCP tools over `Service`: each call picks its workspace (scope), is confirmed when
destructive, runs the service operation in a worker thread and is logged to stderr."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from pydantic import ValidationError

from containai_rpc.errors import DomainError
from containai_rpc.mcp_server.asking import Asker, InputNeeded
from containai_rpc.mcp_server.exec_tool import exec_in_container
from containai_rpc.mcp_server.schemas import BY_NAME, ExecArgs, ToolSpec
from containai_rpc.mcp_server.scope import Refused, Scope
from containai_rpc.protocol.base import WireModel
from containai_rpc.protocol.models import ListParams, RunParams, StatusParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import Service

log = logging.getLogger("containai_rpc.mcp")
LOGGED_ARG_CHARS = 300

CONSEQUENCES = {
    "containai_stop": "stops the container of {ws}: its processes and SSH sessions end",
    "containai_fresh": "removes the container of {ws} and creates it anew from its image "
    "(the data volume is kept; everything else in the container is lost)",
}


@dataclass
class Tools:
    """The tools of one server: its service, its workspace scope, and whether the user
    started it with `--allow-destructive`."""

    service: Service
    scope: Scope
    allow_destructive: bool = False

    async def call(
        self, asker: Asker, name: str, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        """One tools/call, logged; failures the agent can act on come back as isError."""
        started = time.monotonic()
        spec = BY_NAME.get(name)
        shown = json.dumps(arguments)[:LOGGED_ARG_CHARS]
        try:
            if spec is None:
                raise Refused(f"Unknown tool {name!r}; tools: {', '.join(BY_NAME)}")
            result = await self._call(spec, asker, arguments)
        except InputNeeded:
            log.info("mcp %s %s: waiting for the client's answer", name, shown)
            raise
        except anyio.get_cancelled_exc_class():
            log.info("mcp %s %s: cancelled after %.2fs", name, shown, time.monotonic() - started)
            raise
        except (Refused, DomainError, ValidationError) as exc:
            text = _failure_text(exc)
            log.info(
                "mcp %s %s: refused/failed in %.2fs: %s",
                name,
                shown,
                time.monotonic() - started,
                text,
            )
            return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)
        except Exception:
            log.exception("mcp %s %s: failed unexpectedly", name, shown)
            raise  # the SDK answers with an internal error
        log.info("mcp %s %s: ok in %.2fs", name, shown, time.monotonic() - started)
        data = result.wire()
        return types.CallToolResult(
            content=[types.TextContent(text=json.dumps(data, indent=2))], structured_content=data
        )

    async def _call(self, spec: ToolSpec, asker: Asker, arguments: dict[str, Any]) -> WireModel:
        args = spec.args.model_validate(arguments)
        allowed = await self.scope.allowed(asker)
        if spec.name == "containai_list":  # other workspaces' containers stay out of sight
            listed = await _thread(self.service.list, ListParams(context=args.context))
            listed.containers = [c for c in listed.containers if c.workspace in allowed]
            return listed
        workspace = Scope.pick(allowed, args.workspace)
        if spec.destructive:
            await self._authorize(spec, workspace, asker)
        if spec.name == "containai_status":
            return await _thread(self.service.status, StatusParams(workspace=workspace))
        if spec.name == "containai_run":
            return await _thread(self.service.run, RunParams(workspace=workspace))
        if spec.name == "containai_fresh":
            return await _thread(self.service.run, RunParams(workspace=workspace, fresh=True))
        if spec.name == "containai_stop":  # confirmed above: no second question on sessions
            return await _thread(self.service.stop, StopParams(workspace=workspace, force=True))
        assert isinstance(args, ExecArgs)
        return await exec_in_container(self.service, workspace, args)

    async def _authorize(self, spec: ToolSpec, workspace: str, asker: Asker) -> None:
        """Destructive tools: confirmed by the user through the client, or allowed by the
        server's `--allow-destructive`; refused otherwise."""
        what = CONSEQUENCES[spec.name].format(ws=workspace)
        if self.allow_destructive:
            return
        if not asker.can_elicit:
            raise Refused(
                f"{spec.name} is destructive (it {what}) and this MCP client cannot ask its "
                "user to confirm (no elicitation support), so it was refused and nothing "
                "changed. Start the server with --allow-destructive to allow destructive "
                "tools without asking."
            )
        if not await asker.confirm(f"ContainAI: {spec.title.lower()}? This {what}."):
            raise Refused(f"The user declined {spec.name}; nothing was changed.")


async def _thread(operation: Callable[[Any], WireModel], params: Any) -> Any:
    """The service blocks (Docker, SSH): off the event loop, as the JSON-RPC server does."""
    return await anyio.to_thread.run_sync(operation, params)


def _failure_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        hint = f" Hint: {exc.hint}" if exc.hint else ""
        return f"{exc.message} (reason: {exc.reason}).{hint}"
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        return f"Invalid arguments: {problems}"
    return str(exc)

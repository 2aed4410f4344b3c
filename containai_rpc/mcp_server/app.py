"""`containai-rpc --mcp` and `cai mcp`: the MCP server over stdio, wired to one `Service`.

stdout carries only MCP messages (the SDK's stdio transport points fd 1 at stderr while it
serves); every tool call and resource change is logged to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.server.subscriptions import ListenHandler

from containai_rpc import __version__
from containai_rpc.errors import DomainError
from containai_rpc.mcp_server.asking import Asker, InputNeeded
from containai_rpc.mcp_server.live import Live
from containai_rpc.mcp_server.schemas import TOOLS
from containai_rpc.mcp_server.scope import Scope
from containai_rpc.mcp_server.tools import Tools
from containai_rpc.service import Service

log = logging.getLogger("containai_rpc.mcp")
INSTRUCTIONS = (
    "ContainAI keeps one persistent, isolated Docker container per workspace. Run risky "
    "commands there with containai_exec instead of on the host; containai_status shows the "
    "container, containai_fresh recreates it from its image when it is broken."
)


def tool_list() -> list[types.Tool]:
    return [
        types.Tool(
            name=spec.name,
            title=spec.title,
            description=spec.description,
            input_schema=spec.input_schema(),
            output_schema=spec.output_schema(),
            annotations=types.ToolAnnotations.model_validate(spec.annotations()),
        )
        for spec in TOOLS
    ]


def build_server(tools: Tools, live: Live) -> Server[Any]:
    listed = tool_list()

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        try:
            return await tools.call(Asker(ctx, params), params.name, params.arguments or {})
        except InputNeeded as needed:
            return needed.result

    return Server(
        "containai-rpc",
        version=__version__,
        title="ContainAI",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=live.list_resources,
        on_list_resource_templates=live.list_templates,
        on_read_resource=live.read,
        on_subscribe_resource=live.subscribe,
        on_unsubscribe_resource=live.unsubscribe,
        on_subscriptions_listen=ListenHandler(live.bus),
    )


def parse_args(argv: list[str], prog: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Serve ContainAI as MCP tools over stdio (for Claude Code, VS Code, Codex).",
    )
    p.add_argument(
        "--workspace",
        "-w",
        action="append",
        default=[],
        metavar="DIR",
        help="a workspace the tools may act on (repeatable; the first is the default). "
        "Without it: the client's roots, else the current directory.",
    )
    p.add_argument(
        "--allow-destructive",
        action="store_true",
        help="run containai_stop and containai_fresh without asking, also for clients "
        "that cannot ask their user (no MCP elicitation)",
    )
    return p.parse_args(argv)


async def serve(args: argparse.Namespace, service: Service) -> None:
    scope = Scope(args.workspace or [os.getcwd()], explicit=bool(args.workspace))
    live = Live(service, scope)
    server = build_server(Tools(service, scope, args.allow_destructive), live)
    service.watch(asyncio.get_running_loop(), live.emit)
    log.info(
        "mcp server ready: workspaces %s%s, destructive tools %s",
        ", ".join(scope.configured),
        "" if scope.explicit else " (or the client's roots)",
        "allowed" if args.allow_destructive else "confirmed by elicitation",
    )
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def main(argv: list[str] | None = None, prog: str = "containai-rpc --mcp") -> None:
    """Serve until the client closes stdin; logs on stderr (CONTAINAI_LOG_LEVEL)."""
    args = parse_args(sys.argv[1:] if argv is None else argv, prog)
    level = os.environ.get("CONTAINAI_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else "INFO",
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    service = Service()
    try:
        asyncio.run(serve(args, service))
    except DomainError as exc:  # a bad --workspace: said once, before serving anything
        print(f"[ERROR] {exc.message}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        pass
    finally:
        service.close()

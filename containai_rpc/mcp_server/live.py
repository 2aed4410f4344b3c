"""Live state as MCP resources: one status resource per workspace, and the service's
`containerChanged` events as resource-updated notifications to its subscribers.

Both protocol eras are served from one bus: 2026-07-28 clients subscribe with
`subscriptions/listen` (the SDK's `ListenHandler` reads the bus); handshake-era clients
with `resources/subscribe`, and a bus listener sends them `notifications/resources/updated`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote, unquote

import anyio.to_thread
import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPError

from containai_rpc.errors import DomainError
from containai_rpc.mcp_server.asking import Asker, InputNeeded
from containai_rpc.mcp_server.scope import Refused, Scope
from containai_rpc.protocol.models import ContainerChanged, StatusParams
from containai_rpc.service import Service

log = logging.getLogger("containai_rpc.mcp")
PREFIX = "containai://status"
TEMPLATE = PREFIX + "{+workspace}"
MIME = "application/json"


def status_uri(workspace: str) -> str:
    """`containai://status/abs/path/of/workspace` (percent-encoded)."""
    return PREFIX + quote(workspace)


def workspace_of(uri: str) -> str:
    if not uri.startswith(PREFIX + "/"):
        raise MCPError(types.INVALID_PARAMS, f"Not a ContainAI status resource: {uri}")
    return unquote(uri[len(PREFIX) :])


class Live:
    def __init__(self, service: Service, scope: Scope) -> None:
        self.service = service
        self.scope = scope
        self.bus = InMemorySubscriptionBus()
        self._legacy: dict[str, ServerSession] = {}  # uri → the (one, stdio) client's session
        self._tasks: set[asyncio.Task[Any]] = set()
        self.bus.subscribe(self._to_legacy)

    # ------------------------------------------------------------ service events → bus

    def emit(self, event: Any) -> None:
        """The service's live-state callback (on the event loop): a container change
        becomes an update of its workspace's status resource."""
        if isinstance(event, ContainerChanged) and event.container.workspace:
            uri = status_uri(event.container.workspace)
            log.debug("mcp resource updated: %s (%s %s)", uri, event.kind, event.container.name)
            self._spawn(self.bus.publish(ResourceUpdated(uri=uri)))

    def _to_legacy(self, event: ServerEvent) -> None:
        if isinstance(event, ResourceUpdated):
            session = self._legacy.get(event.uri)
            if session is not None:
                self._spawn(session.send_resource_updated(event.uri))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ MCP handlers

    async def list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=status_uri(ws),
                    name=f"status of {ws}",
                    description="The workspace's container (ContainAI status); subscribe "
                    "for a notification whenever it changes.",
                    mime_type=MIME,
                )
                for ws in self.scope.configured
            ]
        )

    async def list_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        template = types.ResourceTemplate(
            uri_template=TEMPLATE,
            name="status",
            description="A workspace's container status.",
            mime_type=MIME,
        )
        return types.ListResourceTemplatesResult(resource_templates=[template])

    async def read(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult | types.InputRequiredResult:
        asker = Asker(ctx, params)
        try:
            workspace = Scope.pick(await self.scope.allowed(asker), workspace_of(params.uri))
        except InputNeeded as needed:
            return needed.result
        except (Refused, DomainError) as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None
        try:
            status = await anyio.to_thread.run_sync(
                self.service.status, StatusParams(workspace=workspace)
            )
            data = status.wire()
        except DomainError as exc:
            if exc.reason != "containerNotFound":
                raise MCPError(types.INTERNAL_ERROR, exc.message) from None
            data = {"workspace": workspace, "status": "absent"}
        text = json.dumps(data, indent=2)
        contents = [types.TextResourceContents(uri=params.uri, mime_type=MIME, text=text)]
        return types.ReadResourceResult(contents=contents)

    async def subscribe(
        self, ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        workspace_of(params.uri)
        self._legacy[params.uri] = ctx.session
        log.info("mcp subscribed: %s", params.uri)
        return types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self._legacy.pop(params.uri, None)
        return types.EmptyResult()

"""Questions to the MCP client (its roots, a confirmation) in either protocol era.

Handshake-era connections (up to 2025-11-25) ask with a server-to-client request and
wait for the answer. On 2026-07-28 the server may not send requests: the tool call
answers `InputRequiredResult`, and the client calls again with the answers; earlier
answers travel along in `requestState`, so each round asks only what is still open.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel

R = TypeVar("R", bound=BaseModel)
CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirm": {"type": "boolean", "title": "Go ahead", "description": "Yes, do it."}
    },
    "required": ["confirm"],
}


class InputNeeded(Exception):
    """Raised inside a 2026-07-28 tool call: answer `result` and wait for the retry."""

    def __init__(self, result: types.InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result


class Asker:
    """Asks the client of one tool call; `can_*` say what the client declared."""

    def __init__(self, ctx: ServerRequestContext[Any], params: types.InputResponseRequestParams):
        self._ctx = ctx
        self._modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        self._answers: dict[str, Any] = {}
        if self._modern:
            if params.request_state:
                self._answers.update(json.loads(params.request_state))
            for key, value in (params.input_responses or {}).items():
                self._answers[key] = value.model_dump(mode="json", by_alias=True)
        caps = ctx.session.client_capabilities
        self.can_list_roots = caps is not None and caps.roots is not None
        self.can_elicit = caps is not None and caps.elicitation is not None

    async def _ask(self, key: str, request: Any, result_type: type[R]) -> R:
        if not self._modern:
            meta = ServerMessageMetadata(related_request_id=self._ctx.request_id)
            return await self._ctx.session.send_request(request, result_type, metadata=meta)
        if key in self._answers:
            return result_type.model_validate(self._answers[key])
        raise InputNeeded(
            types.InputRequiredResult(
                input_requests={key: request}, request_state=json.dumps(self._answers)
            )
        )

    async def roots(self) -> list[str]:
        """The client's file:// roots as local paths (others are ignored)."""
        result = await self._ask("roots", types.ListRootsRequest(), types.ListRootsResult)
        paths = []
        for root in result.roots:
            url = urlparse(str(root.uri))
            if url.scheme == "file" and url.netloc in ("", "localhost"):
                paths.append(unquote(url.path))
        return paths

    async def confirm(self, message: str) -> bool:
        """True only when the user accepted and said yes."""
        request = types.ElicitRequest(
            params=types.ElicitRequestFormParams(message=message, requested_schema=CONFIRM_SCHEMA)
        )
        answer = await self._ask("confirm", request, types.ElicitResult)
        return answer.action == "accept" and bool((answer.content or {}).get("confirm"))

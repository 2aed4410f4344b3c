"""The initialize exchange: protocol version negotiation and our capabilities."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pydantic import ValidationError
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol, lsp_method

from containai_rpc import __version__
from containai_rpc.protocol.models import PROTOCOL_VERSION, InitOptions, ServerCapabilities
from containai_rpc.protocol.registry import METHODS


def negotiated_version(options: Any) -> str:
    """Accept any 1.x (minors only add) or no version; refuse anything else clearly."""
    raw = (options or {}).get("containai") if isinstance(options, dict) else None
    raw = raw if isinstance(raw, dict) else {}
    major = PROTOCOL_VERSION.split(".", 1)[0]
    try:
        asked = InitOptions.model_validate(raw).protocol_version
        supported = asked is None or asked.split(".", 1)[0] == major
    except ValidationError:  # not a "MAJOR.MINOR" string: refused like another major
        asked, supported = raw.get("protocolVersion"), False
    if not supported:
        raise JsonRpcException(
            code=-32602,
            message=f"Unsupported protocolVersion {asked!r}: this server speaks "
            f'{PROTOCOL_VERSION} and accepts "{major}.x" (major versions must match)',
            data={"reason": "unsupportedProtocolVersion", "supported": PROTOCOL_VERSION},
        )
    return PROTOCOL_VERSION


class ContainAIProtocol(LanguageServerProtocol):
    """Adds `capabilities.experimental.containai` and the version check to initialize."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        version = negotiated_version(params.initialization_options)
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {
            "containai": ServerCapabilities(
                protocol_version=version,
                server_version=__version__,
                features=[spec.name.split("/", 1)[1] for spec in METHODS],
            ).wire()
        }
        return result

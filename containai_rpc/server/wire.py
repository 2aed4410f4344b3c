"""The session on the wire: protocol version negotiation, our capabilities, and LSP's
rules before `initialize` and after `shutdown`."""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from lsprotocol import types
from pydantic import ValidationError
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol, default_converter

from containai_rpc import __version__
from containai_rpc.jsonrpc import converter_factory
from containai_rpc.protocol.models import PROTOCOL_VERSION, InitOptions, ServerCapabilities
from containai_rpc.protocol.registry import METHODS

log = logging.getLogger(__name__)

MAX_DEPTH = 64  # our messages nest a few levels; LSP's initialize a dozen
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_ID_VALUE = re.compile(rb'\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)\s*[,}]')
# A message replaced before pygls decodes it carries this method: random per process,
# so that no client can send it.
_REFUSED_METHOD = f"$/containai/refused-{secrets.token_hex(8)}"


def guard_depth(body: bytes) -> bytes:
    """`body`, or — when it nests deeper than MAX_DEPTH, where decoding would recurse
    until it fails and the request would go unanswered — a stand-in message that is
    answered with -32600 under the request's id (found by a shallow scan of the top
    level), or dropped with a log line when it has none."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return body  # the common case: it cannot nest that deep
    depth = deepest = 0
    msg_id: Any = None
    for token in _TOKENS.finditer(body):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (b"]", b"}"):
            depth -= 1
        elif depth == 1 and msg_id is None and token.group() == b'"id"':
            value = _ID_VALUE.match(body, token.end())
            if value is not None:
                try:
                    msg_id = json.loads(value.group(1))
                except ValueError:
                    msg_id = None
    if deepest <= MAX_DEPTH:
        return body
    stand_in: dict[str, Any] = {"jsonrpc": "2.0", "method": _REFUSED_METHOD}
    if isinstance(msg_id, int | str):
        stand_in["id"] = msg_id
    stand_in["params"] = {"message": f"message nested deeper than {MAX_DEPTH} levels"}
    return json.dumps(stand_in).encode()


def wants_live_state(options: Any) -> bool:
    """`initializationOptions.containai.watch` is not false (the default is to watch)."""
    raw = (options or {}).get("containai") if isinstance(options, dict) else None
    return not (isinstance(raw, dict) and raw.get("watch") is False)


def client_cwd(options: Any) -> str | None:
    """`initializationOptions.containai.cwd` when it is an absolute path, else None."""
    raw = (options or {}).get("containai") if isinstance(options, dict) else None
    cwd = raw.get("cwd") if isinstance(raw, dict) else None
    return cwd if isinstance(cwd, str) and cwd.startswith("/") and "\0" not in cwd else None


def check_protocol_version(options: Any) -> None:
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


def server_converter() -> Any:
    """Our converter, and `capabilities.experimental.containai` in the initialize result:
    pygls builds the capabilities after the last handler it lets us add, so they are
    added where the result is serialised (the rest as pygls's own converter has it)."""
    converter = converter_factory()
    plain = default_converter()
    experimental = {
        "containai": ServerCapabilities(
            protocol_version=PROTOCOL_VERSION,
            server_version=__version__,
            features=[spec.name.split("/", 1)[1] for spec in METHODS],
        ).wire()
    }

    def initialize_result(result: types.InitializeResult) -> dict[str, Any]:
        data: dict[str, Any] = plain.unstructure(result)
        data["capabilities"]["experimental"] = experimental
        return data

    converter.register_unstructure_hook(types.InitializeResult, initialize_result)
    return converter


@dataclass(frozen=True)
class _Refused:
    """A message with an id that cannot be handled as a request: answered with `error`."""

    id: int | str
    error: JsonRpcException


def _request_id(data: Any) -> int | str | None:
    """The id of a JSON-RPC 2.0 request (method and id), None for anything else."""
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
        return None
    msg_id = data.get("id")
    if not isinstance(data.get("method"), str) or isinstance(msg_id, bool):
        return None
    return msg_id if isinstance(msg_id, int | str) else None


class _Dropped:
    """A message already logged and not to be handled."""


Phase = Literal["new", "open", "shut down"]


class ContainAIProtocol(LanguageServerProtocol):
    """Answers every request, whatever the session's phase; the phase follows the
    `initialize` and `shutdown` handlers (app.py), which pygls calls from its own."""

    phase: Phase = "new"
    watch = True  # from initializationOptions; False: no watchers, no live notifications
    cwd: str | None = None  # from initializationOptions: the client's working directory

    def open_session(self, params: types.InitializeParams) -> None:
        """On `initialize`: refuse an unsupported protocolVersion, else take requests."""
        check_protocol_version(params.initialization_options)
        self.watch = wants_live_state(params.initialization_options)
        self.cwd = client_cwd(params.initialization_options)
        self.phase = "open"

    def close_session(self) -> None:
        """On `shutdown`: from now on requests are refused (-32600), not dropped."""
        self.phase = "shut down"

    def structure_message(self, data: Any) -> Any:
        """Every request gets an answer: pygls drops one it cannot structure (e.g. params
        that do not fit an LSP method) and silently treats a notification method sent
        with an id as a notification, so the client would wait forever."""
        msg_id = _request_id(data)
        if isinstance(data, dict) and data.get("method") == _REFUSED_METHOD:
            reason = str(data["params"]["message"])
            if msg_id is None:
                log.warning("dropped a message without an id: %s", reason)
                return _Dropped()
            return _Refused(msg_id, JsonRpcInvalidRequest(message=f"Invalid request: {reason}"))
        try:
            message = super().structure_message(data)
        except JsonRpcException as exc:
            if msg_id is None:
                return data  # nested params stay plain JSON; a broken message is logged
            code = exc.code if exc.code == -32602 else JsonRpcInvalidRequest.CODE
            return _Refused(msg_id, JsonRpcException(f"{data['method']}: {exc.message}", code))
        if msg_id is not None and getattr(message, "id", None) is None:
            reason = f"{data['method']} is a notification: send it without an id"
            return _Refused(msg_id, JsonRpcInvalidRequest(message=reason))
        return message

    def handle_message(self, message: Any) -> None:
        """LSP's rules outside the session, which pygls leaves to chance: before
        `initialize` a request gets -32002 (pygls fails with an internal error) and a
        notification is dropped (pygls would run its handler); after `shutdown` a request
        gets -32600 (pygls never answers it, so the client would hang)."""
        if isinstance(message, _Refused):
            self.refuse(message.id, message.error)
            return
        if isinstance(message, _Dropped):
            return
        method = getattr(message, "method", None)
        if (
            not isinstance(method, str)
            or getattr(message, "jsonrpc", None) != "2.0"
            or method in (types.EXIT, types.INITIALIZE)
            or self.phase == "open"
        ):
            super().handle_message(message)
            return
        msg_id = getattr(message, "id", None)
        if msg_id is None:
            if self.phase == "shut down":
                super().handle_message(message)
            return
        error: JsonRpcException = (
            JsonRpcInvalidRequest(message=f"{method}: the server is shutting down")
            if self.phase == "shut down"
            else JsonRpcServerNotInitialized(message=f"{method}: send initialize first")
        )
        self.refuse(msg_id, error)

    def refuse(self, msg_id: int | str, error: JsonRpcException) -> None:
        """Answer `msg_id` with `error` on the stdio transport pygls writes to, framed as
        LSP frames every message: pygls answers only the requests it handles."""
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.data is not None:
            body["data"] = error.data
        payload = json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": body}).encode()
        header = (
            f"Content-Length: {len(payload)}\r\n"
            f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
        )
        self.writer.write(header.encode("ascii") + payload)

"""Runs service calls off the event loop and maps their outcome onto JSON-RPC."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types
from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from containai_rpc.errors import DomainError
from containai_rpc.protocol.base import WireModel
from containai_rpc.service import Hooks

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803
INVALID_PARAMS = -32602
EXPECTED_ERROR_CODES = (REQUEST_FAILED, INVALID_PARAMS)
P = TypeVar("P", bound=BaseModel)


def parse_params(model: type[P], raw: Any) -> P:
    """Validate the raw JSON params; -32602 with pydantic's errors (field names) otherwise."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise JsonRpcInvalidParams(
            message="params must be an object",
            data={"reason": "invalidParams", "errors": []},
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        fields = ", ".join(".".join(str(x) for x in e["loc"]) or "params" for e in errors)
        raise JsonRpcInvalidParams(
            message=f"Invalid params: {fields}",
            data={"reason": "invalidParams", "errors": errors},
        ) from exc


def domain_error(exc: DomainError) -> JsonRpcException:
    return JsonRpcException(code=REQUEST_FAILED, message=exc.message, data=exc.to_data())


class RequestHooks:
    """Builds the service Hooks of one request: progress, confirmation, cancellation."""

    def __init__(self, ls: LanguageServer, loop: asyncio.AbstractEventLoop) -> None:
        self.ls = ls
        self.loop = loop

    def can_confirm(self) -> bool:
        caps = self.ls.client_capabilities
        return bool(caps and caps.window and caps.window.show_message is not None)

    def confirm(self, message: str, actions: list[str]) -> str | None:
        """Ask through window/showMessageRequest; called from a worker thread."""
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=message,
            actions=[types.MessageActionItem(title=a) for a in actions],
        )
        future = asyncio.run_coroutine_threadsafe(
            self.ls.window_show_message_request_async(params), self.loop
        )
        answer = future.result()
        return answer.title if answer is not None else None

    def make(
        self, token: int | str | None, title: str, cancel: threading.Event
    ) -> tuple[Hooks, Callable[[], None]]:
        """(hooks, finish): `finish` ends the progress the hooks may have begun."""
        progress = self.ls.work_done_progress
        begun = False

        def report(message: str) -> None:
            nonlocal begun
            if token is None:
                log.info("%s", message)
                return
            if not begun:
                begun = True
                value: Any = types.WorkDoneProgressBegin(
                    title=title, message=message, cancellable=True
                )
                self.loop.call_soon_threadsafe(progress.begin, token, value)
            else:
                self.loop.call_soon_threadsafe(
                    progress.report, token, types.WorkDoneProgressReport(message=message)
                )

        def finish() -> None:
            if begun and token is not None:
                self.loop.call_soon_threadsafe(progress.end, token, types.WorkDoneProgressEnd())

        hooks = Hooks(
            progress=report,
            confirm=self.confirm if self.can_confirm() else None,
            cancelled=cancel.is_set,
        )
        return hooks, finish


async def call_service(
    bridge: RequestHooks,
    raw: Any,
    model: type[P],
    fn: Callable[..., WireModel],
    title: str,
) -> dict[str, Any]:
    """Validate, run `fn` in a worker thread, and answer plain JSON (or a mapped error)."""
    params = parse_params(model, raw)
    token = getattr(params, "work_done_token", None)
    cancel = threading.Event()
    hooks, finish = bridge.make(token, title, cancel)
    try:
        result = await asyncio.to_thread(fn, params, hooks)
    except asyncio.CancelledError:
        cancel.set()  # the worker stops at its next safe point
        raise
    except DomainError as exc:
        raise domain_error(exc) from None
    finally:
        finish()
    return result.wire()

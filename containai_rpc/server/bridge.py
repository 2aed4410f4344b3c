"""Runs service calls off the event loop and maps their outcome onto JSON-RPC.

Progress and cancellation reuse LSP's plumbing:
- `$/progress`: with the request's `workDoneToken`, or — for long-running methods, when
  the client declared `window.workDoneProgress` but sent no token — a token the server
  creates with `window/workDoneProgress/create`. One `begin` before the work starts, a
  `report` per step, one `end` however the request ends (result, error, cancellation).
- `$/cancelRequest` and `window/workDoneProgress/cancel` (see `WorkDoneCancels`) only
  raise a flag, and are answered alike: the worker stops at its next
  `hooks.checkpoint()`, a step boundary before any further change, never half-way through
  a Docker call, so the answer always says how it really ended — `-32800`
  RequestCancelled (`data.reason: "cancelled"`) when nothing more was changed, else (past
  its point of no return) the normal result.
- A client gone (stdin at EOF, stdout broken) raises every flag at once (`InFlight`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types
from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.progress import Progress

from containai_rpc.errors import DomainError
from containai_rpc.protocol.base import WireModel
from containai_rpc.protocol.registry import Method
from containai_rpc.service import Hooks

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803
INVALID_PARAMS = -32602
REQUEST_CANCELLED = -32800
EXPECTED_ERROR_CODES = (REQUEST_FAILED, INVALID_PARAMS, REQUEST_CANCELLED)
PROGRESS_CREATE_TIMEOUT_S = 5.0  # a client that never answers the create gets no progress
CONFIRM_POLL_S = 0.2  # how often a worker waiting for an answer checks the client is there
P = TypeVar("P", bound=BaseModel)


def parse_params(model: type[P], raw: Any) -> P:
    """Validate the raw JSON params; -32602 with pydantic's errors (field names) otherwise.
    No params, and `[]` (how some clients encode an empty table) where every field is
    optional, are `{}`."""
    if raw is None or (raw == [] and not any(f.is_required() for f in model.model_fields.values())):
        raw = {}
    if not isinstance(raw, dict):
        raise JsonRpcInvalidParams(
            message=f"params must be an object, got {_shape(raw)}",
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


def _shape(raw: Any) -> str:
    """What a client sent instead of an object, in words."""
    if isinstance(raw, list):
        return f"an array of {len(raw)} item{'' if len(raw) == 1 else 's'}"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int | float):
        return "a number"
    if isinstance(raw, str):
        return "a string"
    return type(raw).__name__


def domain_error(exc: DomainError) -> JsonRpcException:
    """-32803 with `data.reason`; a cancel that took effect (by `$/cancelRequest` or the
    progress's cancel button alike) is -32800: nothing more was changed."""
    code = REQUEST_CANCELLED if exc.reason == "cancelled" else REQUEST_FAILED
    return JsonRpcException(code=code, message=exc.message, data=exc.to_data())


def request_token(raw: Any) -> int | str | None:
    """LSP's `WorkDoneProgressParams.workDoneToken`, whatever the method's params model."""
    token = raw.get("workDoneToken") if isinstance(raw, dict) else None
    return token if isinstance(token, int | str) and not isinstance(token, bool) else None


class WorkDoneCancels:
    """The cancel flag of each request showing progress, by token: what
    `window/workDoneProgress/cancel` (the progress's cancel button) sets. Ours, because
    the futures pygls keeps per token are its own bookkeeping. Used on the event loop."""

    def __init__(self) -> None:
        self._flags: dict[int | str, threading.Event] = {}

    def add(self, token: int | str, flag: threading.Event) -> None:
        self._flags[token] = flag

    def discard(self, token: int | str, flag: threading.Event) -> None:
        """Forget the token once its progress ended; a client may use it again later."""
        if self._flags.get(token) is flag:
            del self._flags[token]

    def cancel(self, token: int | str) -> None:
        flag = self._flags.get(token)
        if flag is not None:
            flag.set()


class InFlight:
    """The cancel flag of every request whose worker is running, so that a client gone
    (stdin at EOF, stdout broken) cancels them all at once; `drain` waits for them to end.
    Thread-safe: workers add and remove themselves."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._flags: set[threading.Event] = set()
        self.gone = False

    def run(
        self, fn: Callable[..., WireModel], params: Any, hooks: Hooks, cancel: threading.Event
    ) -> WireModel:
        """In the worker thread: `fn` while registered; born cancelled once the client is gone."""
        with self._cv:
            if self.gone:
                cancel.set()
            self._flags.add(cancel)
        try:
            return fn(params, hooks)
        finally:
            with self._cv:
                self._flags.discard(cancel)
                self._cv.notify_all()

    def cancel_all(self) -> int:
        """Raise every flag (now and for workers still to start); how many were running."""
        with self._cv:
            self.gone = True
            for flag in self._flags:
                flag.set()
            return len(self._flags)

    def drain(self, timeout: float) -> bool:
        """Wait until no worker runs; False when `timeout` passed first."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._flags, timeout)


class WorkDone:
    """One request's `$/progress`: `begin` once, `report` from the worker, `end` always."""

    def __init__(
        self,
        progress: Progress,
        loop: asyncio.AbstractEventLoop,
        token: int | str,
        cancels: WorkDoneCancels,
        cancel: threading.Event,
    ) -> None:
        self._progress = progress
        self._loop = loop
        self._cancels = cancels
        self._cancel = cancel
        self.token = token

    def begin(self, title: str) -> None:
        """On the loop, before the work starts — so a request still waiting for its
        workspace lock already shows, and can be cancelled (the button sets `cancel`)."""
        self._cancels.add(self.token, self._cancel)
        value = types.WorkDoneProgressBegin(title=title, message="Preparing", cancellable=True)
        self._progress.begin(self.token, value)

    def report(self, message: str) -> None:
        """From the worker thread: queued behind `begin`, ahead of `end`."""
        value = types.WorkDoneProgressReport(message=message)
        with contextlib.suppress(RuntimeError):  # a closed loop: the client is gone
            self._loop.call_soon_threadsafe(self._progress.report, self.token, value)

    def end(self) -> None:
        self._progress.end(self.token, types.WorkDoneProgressEnd())
        self._cancels.discard(self.token, self._cancel)


class RequestHooks:
    """Builds the service Hooks of one request: progress, confirmation, cancellation."""

    def __init__(
        self,
        ls: LanguageServer,
        loop: asyncio.AbstractEventLoop,
        cancels: WorkDoneCancels,
        inflight: InFlight | None = None,
    ) -> None:
        self.ls = ls
        self.loop = loop
        self.cancels = cancels
        self.inflight = inflight or InFlight()

    def can_confirm(self) -> bool:
        caps = self.ls.client_capabilities
        return bool(caps and caps.window and caps.window.show_message is not None)

    def can_create_progress(self) -> bool:
        caps = self.ls.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

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
        while True:  # a client gone never answers: then the answer is "no"
            with contextlib.suppress(TimeoutError):
                answer = future.result(CONFIRM_POLL_S)
                return answer.title if answer is not None else None
            if self.inflight.gone:
                future.cancel()
                return None

    async def work_done(self, raw: Any, spec: Method, cancel: threading.Event) -> WorkDone | None:
        """The request's progress channel, or None when the client wants none."""
        token = request_token(raw)
        if token is None and spec.long_running and self.can_create_progress():
            token = f"containai-{uuid.uuid4().hex}"
            try:
                await asyncio.wait_for(
                    self.ls.work_done_progress.create_async(token), PROGRESS_CREATE_TIMEOUT_S
                )
            except (JsonRpcException, RuntimeError, TimeoutError) as exc:
                log.info("client refused progress token: %s", exc)
                return None
        if token is None:
            return None
        return WorkDone(self.ls.work_done_progress, self.loop, token, self.cancels, cancel)

    def hooks(self, work: WorkDone | None, cancel: threading.Event) -> Hooks:
        return Hooks(
            progress=work.report if work is not None else _log_step,
            confirm=self.confirm if self.can_confirm() else None,
            cancelled=cancel.is_set,
        )


def _log_step(message: str) -> None:
    log.info("%s", message)


async def call_service(
    bridge: RequestHooks, raw: Any, spec: Method, fn: Callable[..., WireModel]
) -> dict[str, Any]:
    """Validate, run `fn` in a worker thread, and answer plain JSON (or a mapped error)."""
    params = parse_params(spec.params, raw)
    cancel = threading.Event()
    work = await bridge.work_done(raw, spec, cancel)
    if work is not None:
        work.begin(spec.name)
    hooks = bridge.hooks(work, cancel)
    worker = asyncio.ensure_future(
        asyncio.to_thread(bridge.inflight.run, fn, params, hooks, cancel)
    )
    try:
        while not worker.done():
            try:
                await asyncio.shield(worker)
            except asyncio.CancelledError:
                if worker.cancelled():  # the worker itself was cancelled: nothing to wait for
                    raise
                # $/cancelRequest: flag it; the worker ends at its next safe point.
                cancel.set()
        result = worker.result()
    except DomainError as exc:
        raise domain_error(exc) from None
    finally:
        if work is not None:
            work.end()
    return result.wire()

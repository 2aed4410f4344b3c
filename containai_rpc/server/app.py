"""The `containai-rpc` entry point: a pygls server over stdio exposing containai/*."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from containai_rpc import __version__
from containai_rpc.protocol.registry import METHODS, Method
from containai_rpc.server.bridge import (
    EXPECTED_ERROR_CODES,
    RequestHooks,
    WorkDoneCancels,
    call_service,
)
from containai_rpc.server.notify import notifier
from containai_rpc.server.wire import ContainAIProtocol, server_converter
from containai_rpc.service import Service

log = logging.getLogger("containai_rpc")


class ContainAIServer(LanguageServer):
    """A LanguageServer that never pops up UI for its own errors: they go to the log."""

    def report_server_error(self, error: Exception, source: Any) -> None:
        if isinstance(error, JsonRpcException) and error.code in EXPECTED_ERROR_CODES:
            return  # a domain error or bad params: an answer, not a server fault
        log.warning("server error (%s): %s", getattr(source, "__name__", source), error)


MAX_MESSAGE_BYTES = 64 * 2**20
_HEADER = b"Content-Length:"


class _ResyncingStdin:
    """stdin as pygls reads it, made robust against a peer that breaks the framing.

    pygls recognises only a header line that is exactly `Content-Length: N`, so one body
    shorter or longer than announced glues the next header to the end of a body, and
    every later message is lost; a huge length makes it allocate (and die) or wait
    forever. Here a header is found wherever it starts in a line, and a body over
    MAX_MESSAGE_BYTES is dropped (logged) without being read: its bytes then pass as
    header noise until the next real header.
    """

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def readline(self) -> bytes:
        line: bytes = self._raw.readline(MAX_MESSAGE_BYTES)
        at = line.find(_HEADER)
        return line[at:] if at > 0 else line

    def read(self, n: int) -> bytes:
        if n <= MAX_MESSAGE_BYTES:
            return bytes(self._raw.read(n))
        log.error("dropping a message of %d bytes (limit %d)", n, MAX_MESSAGE_BYTES)
        return b" "  # not JSON: pygls logs it and reads the next header


class _QuietDomainErrors(logging.Filter):
    """pygls logs a traceback for every error response; ours are expected answers."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, JsonRpcException)


def _bind(
    server: ContainAIServer, spec: Method, operation: Callable[..., Any], cancels: WorkDoneCancels
) -> None:
    """Register one containai/* request: validate → worker thread → JSON or mapped error."""

    async def handler(ls: ContainAIServer, params: Any) -> dict[str, Any]:
        bridge = RequestHooks(ls, asyncio.get_running_loop(), cancels)
        return await call_service(bridge, params, spec, operation)

    server.feature(spec.name)(handler)


def _session(server: ContainAIServer, service: Service, cancels: WorkDoneCancels) -> None:
    """The LSP session messages: pygls calls these from its own handling of them. The
    service keeps live state from `initialized` (notifications may flow) until `shutdown`."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: ContainAIServer, params: types.InitializeParams) -> None:
        ls.protocol.open_session(params)

    @server.feature(types.INITIALIZED)
    def initialized(ls: ContainAIServer, params: types.InitializedParams) -> None:
        if ls.protocol.watch:
            service.watch(asyncio.get_running_loop(), notifier(ls.protocol.notify))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: ContainAIServer, params: None) -> None:
        ls.protocol.close_session()
        service.unwatch()

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel_work(ls: ContainAIServer, params: types.WorkDoneProgressCancelParams) -> None:
        cancels.cancel(params.token)


def create_server(service: Service | None = None) -> ContainAIServer:
    server = ContainAIServer(
        "containai-rpc",
        __version__,
        protocol_cls=ContainAIProtocol,
        converter_factory=server_converter,
    )
    svc = service or Service()
    cancels = WorkDoneCancels()
    for spec in METHODS:
        _bind(server, spec, getattr(svc, spec.operation), cancels)
    _session(server, svc, cancels)
    return server


def main() -> None:
    """Serve on stdin/stdout; stdout carries only protocol, logs go to stderr."""
    level = os.environ.get("CONTAINAI_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else "INFO",
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_QuietDomainErrors())
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the protocol stream
    create_server().start_io(_ResyncingStdin(stdin), stdout)
    # Every request has been answered and its worker thread joined by now (asyncio.run
    # waits for the default executor). Skip the interpreter's teardown of thousands of
    # classes: 0.2-0.6 s of CPU that every `cai` command would wait for (bench/).
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()

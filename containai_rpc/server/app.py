"""The `containai-rpc` entry point: a pygls server over stdio exposing containai/*."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from containai_rpc import __version__
from containai_rpc.jsonrpc import converter_factory
from containai_rpc.protocol.registry import METHODS, Method
from containai_rpc.server.bridge import EXPECTED_ERROR_CODES, RequestHooks, call_service
from containai_rpc.server.wire import ContainAIProtocol
from containai_rpc.service import Service

log = logging.getLogger("containai_rpc")


class ContainAIServer(LanguageServer):
    """A LanguageServer that never pops up UI for its own errors: they go to the log."""

    def report_server_error(self, error: Exception, source: Any) -> None:
        if isinstance(error, JsonRpcException) and error.code in EXPECTED_ERROR_CODES:
            return  # a domain error or bad params: an answer, not a server fault
        log.warning("server error (%s): %s", getattr(source, "__name__", source), error)


class _QuietDomainErrors(logging.Filter):
    """pygls logs a traceback for every error response; ours are expected answers."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, JsonRpcException)


def _bind(server: ContainAIServer, spec: Method, operation: Callable[..., Any]) -> None:
    """Register one containai/* request: validate → worker thread → JSON or mapped error."""

    async def handler(ls: ContainAIServer, params: Any) -> dict[str, Any]:
        bridge = RequestHooks(ls, asyncio.get_running_loop())
        return await call_service(bridge, params, spec.params, operation, spec.name)

    server.feature(spec.name)(handler)


def create_server(service: Service | None = None) -> ContainAIServer:
    server = ContainAIServer(
        "containai-rpc",
        __version__,
        protocol_cls=ContainAIProtocol,
        converter_factory=converter_factory,
    )
    svc = service or Service()
    for spec in METHODS:
        _bind(server, spec, getattr(svc, spec.operation))
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
    create_server().start_io(stdin, stdout)


if __name__ == "__main__":
    main()

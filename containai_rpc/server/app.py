"""The `containai-rpc` entry point: a pygls server over stdio exposing containai/*."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from containai_rpc import __version__
from containai_rpc.protocol.registry import METHODS, Method
from containai_rpc.server.bridge import (
    EXPECTED_ERROR_CODES,
    InFlight,
    RequestHooks,
    WorkDoneCancels,
    call_service,
)
from containai_rpc.server.notify import notifier
from containai_rpc.server.wire import ContainAIProtocol, guard_depth, server_converter
from containai_rpc.service import CLIENT_CWD, Service

log = logging.getLogger("containai_rpc")


GONE_DRAIN_S = 0.7  # a client gone: how long in-flight work may take to reach a boundary


class ContainAIServer(LanguageServer):
    """A LanguageServer that never pops up UI for its own errors: they go to the log."""

    inflight: InFlight
    on_gone: Callable[[], None] | None = None
    """Set for one connection of the shared server: called instead of exiting."""
    _gone = False

    def client_gone(self, why: str, *, stdin_eof: bool) -> None:
        """The client cannot hear us any more (stdin at EOF, or stdout broken): cancel all
        in-flight work at its next step boundary and exit as soon as it got there (at most
        GONE_DRAIN_S), with one log line. Called from whichever thread noticed. A shared
        server's connection only ends itself (`on_gone`): the other clients go on."""
        if self._gone:
            return
        self._gone = True
        running = self.inflight.cancel_all()
        if self.on_gone is not None:
            if running:
                log.info("client gone (%s): cancelled %d request(s) in flight", why, running)
            self.on_gone()
            return
        if stdin_eof and not running:
            return  # nothing to cut short: pygls ends the session as after `exit`
        log.warning("client gone (%s): cancelled %d request(s) in flight, exiting", why, running)
        threading.Thread(target=self._exit_when_drained, daemon=True).start()

    def _exit_when_drained(self) -> None:
        self.inflight.drain(GONE_DRAIN_S)
        logging.shutdown()
        os._exit(0)

    def report_server_error(self, error: Exception, source: Any) -> None:
        if isinstance(error, JsonRpcException) and error.code in EXPECTED_ERROR_CODES:
            return  # a domain error or bad params: an answer, not a server fault
        log.warning("server error (%s): %s", getattr(source, "__name__", source), error)


MAX_MESSAGE_BYTES = 64 * 2**20
_HEADER = b"Content-Length:"


class ResyncingStdin:
    """stdin as pygls reads it, made robust against a peer that breaks the framing.

    pygls recognises only a header line that is exactly `Content-Length: N`, so one body
    shorter or longer than announced glues the next header to the end of a body, and
    every later message is lost; a huge length makes it allocate (and die) or wait
    forever. Here a header is found wherever it starts in a line, and a body over
    MAX_MESSAGE_BYTES is dropped (logged) without being read: its bytes then pass as
    header noise until the next real header.
    """

    def __init__(self, raw: Any, on_eof: Callable[[], None] = lambda: None) -> None:
        self._raw = raw
        self._on_eof = on_eof

    def readline(self) -> bytes:
        line: bytes = self._raw.readline(MAX_MESSAGE_BYTES)
        if not line:
            self._on_eof()
        at = line.find(_HEADER)
        return line[at:] if at > 0 else line

    def read(self, n: int) -> bytes:
        if n <= MAX_MESSAGE_BYTES:
            body = bytes(self._raw.read(n))
            if len(body) < n:
                self._on_eof()
            return guard_depth(body)
        log.error("dropping a message of %d bytes (limit %d)", n, MAX_MESSAGE_BYTES)
        return b" "  # not JSON: pygls logs it and reads the next header


class ClientStdout:
    """stdout as pygls writes to it: once the client stopped reading (a broken pipe), the
    writes go nowhere and the server is told the client is gone, instead of a traceback
    per message."""

    def __init__(self, raw: Any, on_broken: Callable[[], None]) -> None:
        self._raw = raw
        self._on_broken = on_broken
        self._broken = False

    def write(self, data: bytes) -> None:
        if self._broken:
            return
        try:
            self._raw.write(data)
            self._raw.flush()
        except (OSError, ValueError):  # BrokenPipeError, or closed
            self._broken = True
            self._on_broken()

    def flush(self) -> None:
        return None

    def close(self) -> None:
        try:
            self._raw.close()
        except (OSError, ValueError):
            self._broken = True


class _QuietDomainErrors(logging.Filter):
    """pygls logs a traceback for every error response; ours are expected answers."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, JsonRpcException)


class _RateLimit(logging.Filter):
    """At most BURST records of one message (logger, level, format string) per WINDOW_S;
    the next one after a window with some held back says how many were suppressed. A
    flood of identical bad messages then costs a few log lines, not one per message."""

    BURST = 5
    WINDOW_S = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._seen: dict[tuple[str, int, str], list[float | int]] = {}  # start, count, held
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        with self._lock:
            entry = self._seen.get(key)
            if entry is None or now - entry[0] >= self.WINDOW_S:
                held = int(entry[2]) if entry is not None else 0
                self._seen[key] = [now, 1, 0]
                if held:
                    record.msg = f"[{held} similar suppressed] {record.msg}"
                return True
            entry[1] += 1
            if entry[1] <= self.BURST:
                return True
            if entry[1] == self.BURST + 1:
                record.msg = f"{record.msg} [repeated: similar messages held back for a minute]"
                return True
            entry[2] += 1
            return False


def _bind(
    server: ContainAIServer, spec: Method, operation: Callable[..., Any], cancels: WorkDoneCancels
) -> None:
    """Register one containai/* request: validate → worker thread → JSON or mapped error."""

    async def handler(ls: ContainAIServer, params: Any) -> dict[str, Any]:
        CLIENT_CWD.set(ls.protocol.cwd)  # this request's task only; its worker inherits it
        bridge = RequestHooks(ls, asyncio.get_running_loop(), cancels, ls.inflight)
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


def create_server(
    service: Service | None = None, converter_factory: Callable[[], Any] = server_converter
) -> ContainAIServer:
    """One server (one client's session) over `service`; the shared server passes each
    connection a view of its one service (`server/shared.py`), and one converter."""
    server = ContainAIServer(
        "containai-rpc",
        __version__,
        protocol_cls=ContainAIProtocol,
        converter_factory=converter_factory,
    )
    server.inflight = InFlight()
    svc = service or Service()
    cancels = WorkDoneCancels()
    for spec in METHODS:
        _bind(server, spec, getattr(svc, spec.operation), cancels)
    _session(server, svc, cancels)
    return server


def configure_logging() -> None:
    """Logs to stderr at `CONTAINAI_LOG_LEVEL`, rate-limited, without pygls's noise."""
    level = os.environ.get("CONTAINAI_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else "INFO",
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RateLimit())
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_QuietDomainErrors())


def main() -> None:
    """Serve on stdin/stdout; stdout carries only protocol, logs go to stderr."""
    configure_logging()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the protocol stream
    service = Service()
    server = create_server(service)
    server.start_io(
        ResyncingStdin(stdin, lambda: server.client_gone("stdin closed", stdin_eof=True)),
        ClientStdout(stdout, lambda: server.client_gone("stdout closed", stdin_eof=False)),
    )
    # Every request has been answered and its worker thread joined by now (asyncio.run
    # waits for the default executor). Skip the interpreter's teardown of thousands of
    # classes: 0.2-0.6 s of CPU that every `cai` command would wait for (bench/).
    service.close()  # SSH connections and their runtime folder
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()

"""One engine's Docker events, read forever on a thread of its own: subscribe, list,
stream `until`-bounded windows with a continuous `since`, reconnect with backoff.

The watcher only reads; what it sees goes to its `Sink` (the live state), which hands it
to the event loop. The engine health it reports: `ok` once subscribed and listed,
`error` when the engine does not answer (retried with backoff `BACKOFF_MIN_S` →
`BACKOFF_MAX_S`, forever: an engine that went away never ends the server), `warning`
when it answers but refuses the events subscription.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from containai_rpc.engine import ContainerInfo, Engine, EngineEvent, EngineSet, EventSource
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import EngineStatus

log = logging.getLogger(__name__)

WINDOW_S = 300.0
BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 5.0
_ERROR_REASONS = ("engineUnavailable", "contextNotFound")
_NS = 1_000_000_000


class Sink(Protocol):
    """Where a watcher reports, from its own thread (the live state posts to its loop)."""

    def connecting(self, context: str) -> None: ...

    def listed(self, context: str, infos: list[ContainerInfo], status: EngineStatus) -> None: ...

    def event(self, event: EngineEvent) -> None: ...

    def down(self, context: str, status: EngineStatus) -> None: ...


class _StreamLost(Exception):
    """The event stream ended before its window did: reconnect (the engine may be fine)."""


class Watcher(threading.Thread):
    """Reads one engine's events forever: subscribe, list, stream windows, reconnect."""

    def __init__(self, context: str, engines: EngineSet, sink: Sink) -> None:
        super().__init__(name=f"containai-events-{context}", daemon=True)
        self.context = context
        self._engines = engines
        self._sink = sink
        self._stopped = threading.Event()
        self._stream: EventSource | None = None
        self._since_ns: int | None = None  # continuous across windows and reconnects
        self._until_ns = 0
        self._connected = False

    def stop(self) -> None:
        self._stopped.set()
        stream = self._stream
        if stream is not None:
            stream.close()

    def run(self) -> None:
        backoff = BACKOFF_MIN_S
        while not self._stopped.is_set():
            self._connected = False
            began = time.monotonic()
            try:
                self._connect_and_follow()
            except _StreamLost:
                if time.monotonic() - began > BACKOFF_MAX_S:
                    backoff = BACKOFF_MIN_S
                    continue  # it had been working: reconnect right away
            except DomainError as exc:
                self._down(exc)
            except Exception as exc:  # a bug must not end live updates: log, retry
                log.exception("event watcher for context %s failed", self.context)
                self._down(DomainError("engineError", f"Event watcher failed: {exc!r}"))
            if self._connected:
                backoff = BACKOFF_MIN_S
            self._stopped.wait(backoff)  # backoff between reconnects, not synchronisation
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _connect_and_follow(self) -> None:
        """Subscribe first, then list, so nothing falls between the two."""
        engine = self._engines.get(self.context)
        info = engine.info(refresh=True)
        self._sink.connecting(self.context)
        stream = self._open(engine, self._since_ns or time.time_ns())
        infos = engine.list_managed()
        status = EngineStatus(
            health="ok",
            message=f"Docker {info.server_version} (API {info.api_version}) is reachable",
            context=self.context,
            endpoint=engine.endpoint,
            connection=engine.tunnel.describe() if engine.tunnel is not None else None,
        )
        self._sink.listed(self.context, infos, status)
        self._connected = True
        while not self._stopped.is_set():
            for event in stream:
                self._since_ns = max(self._since_ns or 0, event.time_nano)
                self._sink.event(event)
            if self._stopped.is_set():
                return
            if time.time_ns() < self._until_ns:
                raise _StreamLost
            stream = self._open(engine, self._until_ns)

    def _open(self, engine: Engine, since_ns: int) -> EventSource:
        """The next window; `since` only moves forward, so nothing is skipped."""
        self._since_ns = max(self._since_ns or 0, since_ns)
        self._until_ns = since_ns + int(WINDOW_S * _NS)
        stream = self._stream = engine.events(since_ns=since_ns, until_ns=self._until_ns)
        if self._stopped.is_set():
            stream.close()
        return stream

    def _down(self, exc: DomainError) -> None:
        self._stream = None
        self._engines.forget(self.context)
        if self._stopped.is_set():
            return
        try:
            endpoint: str | None = self._engines.endpoint(self.context)
        except DomainError:
            endpoint = None
        status = EngineStatus(
            health="error" if exc.reason in _ERROR_REASONS else "warning",
            message=f"{exc.message} (retrying)",
            context=self.context,
            endpoint=endpoint,
        )
        self._sink.down(self.context, status)

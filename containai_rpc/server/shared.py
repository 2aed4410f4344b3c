"""One service, many clients: the shared server's connections over one `Service`.

Each connection is a session of its own — a `ContainAIServer` (pygls's public
`start_io`, on the socket's two file objects, in a thread with its own event loop), so
its responses, `$/progress` tokens, confirmations and cancellations stay its own. What
they share is the `Hub`: one service, whose live state (one cache, one event watcher per
context) runs on the hub's loop once the first client is served, so `list` answers from
memory. Its
events fan out to every connection that asked for them (`watch`), each on its own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from containai_rpc.server.app import ClientStdout, ResyncingStdin, create_server
from containai_rpc.server.wire import server_converter
from containai_rpc.service import Service

log = logging.getLogger(__name__)

Emit = Callable[[Any], None]


class Hub:
    """The shared service, its live state, and who is connected (for the idle exit)."""

    def __init__(self, service: Service | None = None) -> None:
        self.service = service or Service()
        self._converter = server_converter()  # stateless once built: every session's
        self._lock = threading.Lock()
        self._subscribers: dict[int, tuple[asyncio.AbstractEventLoop, Emit]] = {}
        self._connections: set[socket.socket] = set()
        self.last_active = time.monotonic()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="hub", daemon=True).start()
        self._live = False

    def _start_live(self) -> None:
        """Watch from now on: when a client asks for events, or once the first client is
        served (so the first request, which started us, does not wait for the watchers)."""
        with self._lock:
            if self._live:
                return
            self._live = True
        self.loop.call_soon_threadsafe(self.service.watch, self.loop, self._broadcast)

    # ------------------------------------------------------------------ live events

    def _broadcast(self, event: Any) -> None:
        """On the hub's loop: hand the event to each subscriber on its own loop."""
        with self._lock:
            targets = list(self._subscribers.values())
        for loop, emit in targets:
            with contextlib.suppress(RuntimeError):  # its loop just closed: it left
                loop.call_soon_threadsafe(emit, event)

    def subscribe(self, key: int, loop: asyncio.AbstractEventLoop, emit: Emit) -> None:
        with self._lock:
            self._subscribers[key] = (loop, emit)
        self._start_live()

    def unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    # ------------------------------------------------------------------ connections

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._connections)

    def serve(self, conn: socket.socket) -> None:
        """Serve one accepted connection on a thread of its own."""
        with self._lock:
            self._connections.add(conn)
            self.last_active = time.monotonic()
        threading.Thread(target=self._session, args=(conn,), name="client", daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        view = ConnectionService(self)
        server = create_server(cast(Service, view), lambda: self._converter)
        server.on_gone = lambda: _hang_up(conn)
        reader, writer = conn.makefile("rb"), _SocketWriter(conn)
        try:
            server.start_io(
                ResyncingStdin(reader, lambda: server.client_gone("closed", stdin_eof=True)),
                ClientStdout(writer, lambda: server.client_gone("write failed", stdin_eof=False)),
            )
        except Exception:  # one connection's failure never ends the others
            log.exception("a client session failed")
        finally:
            view.unwatch()
            _hang_up(conn)
            for f in (reader, writer, conn):
                with contextlib.suppress(OSError):
                    f.close()
            with self._lock:
                self._connections.discard(conn)
                self.last_active = time.monotonic()
            self._start_live()

    def hang_up_all(self) -> None:
        """End every connection (their in-flight work is cancelled at the next step)."""
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            _hang_up(conn)

    def close(self) -> None:
        self.service.close()


class _SocketWriter:
    """The connection's write side; closing it (pygls does on `exit`) hangs up, so the
    session's reader sees EOF even if the client keeps its end open."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._file = conn.makefile("wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        _hang_up(self._conn)


def _hang_up(conn: socket.socket) -> None:
    """Shut the connection both ways: its reader sees EOF and the session ends."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


class ConnectionService:
    """What one connection's server sees as its service: the hub's operations, and a
    `watch`/`unwatch` that (un)subscribe this connection from the shared live events
    instead of starting or stopping the watchers everybody shares."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hub.service, name)

    def watch(self, loop: asyncio.AbstractEventLoop, emit: Emit) -> None:
        self._hub.subscribe(id(self), loop, emit)

    def unwatch(self) -> None:
        self._hub.unsubscribe(id(self))

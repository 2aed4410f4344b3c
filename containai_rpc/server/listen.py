"""`containai-rpc --listen`: the per-user shared server on a unix socket.

Start-up is ordered for the first client's sake: the lock and the socket (standard
library only) come first, so a starting `cai` can connect at once and its request waits
in the socket while the protocol stack imports. One server per name: a second start
finds the lock taken and is a no-op. It exits after `idle_s` with no client, on SIGTERM
(`cai server stop`) and when a server of another version replaces it, and it removes its
socket before it lets go of the lock, so a successor never meets a dead socket.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from containai_rpc import __version__
from containai_rpc.local import rundir

log = logging.getLogger(__name__)

DEFAULT_IDLE_S = 600.0
IDLE_ENV = "CONTAINAI_SERVER_IDLE"
"""Seconds the shared server stays up with no client (`--idle` wins)."""
STOP_GRACE_S = 5.0  # on stop: how long connected clients may finish before they are cut


def idle_seconds(value: str | None) -> float:
    text = value or os.environ.get(IDLE_ENV) or ""
    try:
        seconds = float(text) if text else DEFAULT_IDLE_S
    except ValueError:
        raise SystemExit(f"containai-rpc: the idle time must be seconds, got {text!r}") from None
    if seconds <= 0:
        raise SystemExit(f"containai-rpc: the idle time must be positive, got {text!r}")
    return seconds


def serve(idle_s: float) -> int:
    """Run the shared server until idle or stopped; 0 also when one already runs."""
    place = rundir.place()
    try:
        rundir.ensure_dir(place.dir)
    except (OSError, rundir.Refused) as exc:
        print(f"containai-rpc: {exc}", file=sys.stderr)
        return 1
    lock = os.open(place.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"containai-rpc: a shared server already listens on {place.socket}", file=sys.stderr)
        return 0
    listener = _bind(place.socket)
    rundir.write_info(
        place, {"pid": os.getpid(), "version": __version__, "started": time.time(), "idleS": idle_s}
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    from containai_rpc.server.app import configure_logging

    configure_logging()
    from containai_rpc.server.shared import Hub

    hub = Hub()
    log.info("listening on %s (pid %d, idle exit after %gs)", place.socket, os.getpid(), idle_s)
    retire_others(place)
    _accept(listener, hub, idle_s, stop)
    _close(listener, place)
    _drain(hub)
    logging.shutdown()
    os._exit(0)  # hub threads are daemons; skip the interpreter's teardown


def _bind(path: Path) -> socket.socket:
    """A listening socket at `path`, mode 0600 from the start (umask), replacing a stale one
    (we hold the lock, so no server is behind it)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


def _accept(listener: socket.socket, hub: Any, idle_s: float, stop: threading.Event) -> None:
    """Accept clients of our own uid until stopped or idle for `idle_s`."""
    listener.settimeout(min(0.5, idle_s / 4))
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if hub.clients == 0 and time.monotonic() - hub.last_active >= idle_s:
                log.info("no client for %gs: exiting", idle_s)
                return
            continue
        except OSError as exc:  # e.g. out of file descriptors: keep serving the others
            log.warning("accept failed: %s", exc)
            continue
        conn.settimeout(None)
        try:
            rundir.check_peer(conn)
        except (OSError, rundir.Refused) as exc:
            log.warning("%s", exc)
            conn.close()
            continue
        hub.serve(conn)
    log.info("stopping")


def _close(listener: socket.socket, place: rundir.Place) -> None:
    """No new clients: the socket goes first (while we still hold the lock)."""
    listener.close()
    for path in (place.socket, place.info):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _drain(hub: Any) -> None:
    """Let connected clients finish for STOP_GRACE_S, then cut the rest."""
    deadline = time.monotonic() + STOP_GRACE_S
    while hub.clients and time.monotonic() < deadline:
        time.sleep(0.05)
    hub.hang_up_all()
    deadline = time.monotonic() + 1.0
    while hub.clients and time.monotonic() < deadline:
        time.sleep(0.05)
    hub.close()


def retire_others(place: rundir.Place) -> None:
    """Stop the servers of other versions for the same install and environment: their
    clients are gone or going (a newer `cai` never talks to them)."""
    suffix = place.name.rsplit("-", 1)[1] + ".sock"
    for path in place.dir.glob(f"{rundir.PREFIX}*-{suffix}"):
        if path == place.socket:
            continue
        pid = rundir.server_pid(path)
        if pid is not None:
            log.info("replacing the server of another version at %s (pid %d)", path, pid)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)

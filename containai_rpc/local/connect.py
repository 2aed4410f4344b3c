"""Connect to this user's shared server, starting it when none listens.

Starters serialise on a lock file (flock), and each checks again for a server once it
holds it: however many `cai` calls race, exactly one starts the server and all connect
to it. The server is started detached (its own session, cwd `/`, logs in its log file)
so that it outlives the call that started it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
import time

from containai_rpc.local import rundir

START_DEADLINE_S = 10.0  # a server that has not bound its socket by then is broken
LOCK_DEADLINE_S = 15.0


class Unavailable(Exception):
    """The shared server cannot be used (why, in words); a private server can."""


def server_command() -> list[str]:
    return [sys.executable, "-m", "containai_rpc", "--listen"]


def try_connect(place: rundir.Place) -> tuple[socket.socket, int] | None:
    """(connected socket, server pid), or None when nothing listens there.

    Raises `rundir.Refused` for a socket or directory that is not private to us."""
    try:
        rundir.check_socket(place.socket)
    except FileNotFoundError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(place.socket))
        pid = rundir.check_peer(sock)
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except BaseException:
        sock.close()
        raise
    return sock, pid


def connect(start: bool = True) -> tuple[socket.socket, int, bool]:
    """(socket, server pid, whether we started it). Raises `rundir.Refused` or
    `Unavailable`."""
    place = rundir.place()
    try:
        rundir.ensure_dir(place.dir)
    except OSError as exc:
        raise Unavailable(f"cannot create {place.dir}: {exc.strerror or exc}") from None
    found = try_connect(place)
    if found is not None:
        return (*found, False)
    if not start:
        raise Unavailable(f"no shared server listens on {place.socket}")
    with _locked(place):
        found = try_connect(place)  # another starter may have won the race
        if found is not None:
            return (*found, False)
        return (*_start(place), True)


@contextlib.contextmanager
def _locked(place: rundir.Place):  # type: ignore[no-untyped-def]
    fd = os.open(place.start_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + LOCK_DEADLINE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Unavailable("another `cai` is starting the server for too long") from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)


def _start(place: rundir.Place) -> tuple[socket.socket, int]:
    import subprocess

    fd = os.open(place.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        proc = subprocess.Popen(
            server_command(),
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            cwd="/",
            start_new_session=True,
            env={k: v for k, v in os.environ.items() if k != "CONTAINAI_LOG_LEVEL"},
        )
    finally:
        os.close(fd)
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        found = try_connect(place)
        if found is not None:
            return found
        if proc.poll() is not None:
            raise Unavailable(f"the shared server exited at start (see {place.log})")
        time.sleep(0.005)
    raise Unavailable(f"the shared server did not listen within {START_DEADLINE_S:g}s")

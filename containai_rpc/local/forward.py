"""`containai-rpc --remote auto`: this process's stdio, byte for byte, to the shared
server (started when none runs), so an editor window costs a forwarder, not a server.
The framing, `initialize` and everything after are the client's and the server's own."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading

from containai_rpc.local import connect, rundir

CHUNK = 65536


def forward(target: str) -> int:
    if target != "auto":
        print(f"containai-rpc: --remote takes 'auto', got {target!r}", file=sys.stderr)
        return 2
    try:
        sock, _pid, _started = connect.connect()
    except (rundir.Refused, connect.Unavailable) as exc:
        print(f"containai-rpc: cannot reach the shared server: {exc}", file=sys.stderr)
        return 1
    stdin, stdout = sys.stdin.buffer.fileno(), sys.stdout.buffer.fileno()
    threading.Thread(target=_upstream, args=(stdin, sock), daemon=True).start()
    try:
        while data := sock.recv(CHUNK):
            _write_all(stdout, data)
    except OSError:  # the editor stopped reading, or the server reset: hang up
        pass
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return 0


def _upstream(stdin: int, sock: socket.socket) -> None:
    """stdin → server; at EOF the server sees the client gone, as a stdio server would."""
    try:
        while data := os.read(stdin, CHUNK):
            sock.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]

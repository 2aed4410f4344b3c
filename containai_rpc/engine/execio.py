"""Reading an exec's output: a socket we can time out, and Docker's stream framing."""

from __future__ import annotations

import os
import socket
from typing import Any


def with_timeouts(sock: Any) -> Any:
    """What to read an exec's output from with a timeout. The SDK hands out a plain
    (unix or TCP) connection as its file view, `socket.SocketIO`, which has none: then a
    socket object of our own on a duplicate of its descriptor. A TLS socket or an ssh
    channel comes as itself."""
    if isinstance(sock, socket.SocketIO):
        return socket.socket(fileno=os.dup(sock.fileno()))
    return sock


def demux(data: bytes) -> str:
    """Decode Docker's multiplexed stdout/stderr stream (8-byte frame headers)."""
    out = bytearray()
    i = 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i + 4 : i + 8], "big")
        out += data[i + 8 : i + 8 + size]
        i += 8 + size
    return out.decode("utf-8", "replace")

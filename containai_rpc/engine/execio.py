"""Reading what the engine streams back: an exec's output (a socket we can time out,
Docker's stream framing) and a file out of a container's tar archive."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import tarfile
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


def read_stream(sock: Any, timeout_s: float) -> tuple[bytes, bool]:
    """All of an exec's raw output, and whether it ended before `timeout_s` of silence."""
    raw = with_timeouts(sock)
    raw.settimeout(timeout_s)
    chunks: list[bytes] = []
    try:
        while data := raw.recv(65536):
            chunks.append(data)
    except (TimeoutError, OSError):
        return b"".join(chunks), False
    finally:
        if raw is not sock:
            raw.close()
        with contextlib.suppress(OSError):  # the engine may have gone meanwhile
            sock.close()
    return b"".join(chunks), True


def first_file(archive: bytes, max_bytes: int) -> bytes | None:
    """The first regular file of a tar archive (`get_archive`), None when absent or larger."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        if member is None or member.size > max_bytes:
            return None
        handle = tar.extractfile(member)
        return handle.read() if handle is not None else None

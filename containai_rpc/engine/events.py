"""Docker's event stream: windows of managed-container events, read in both API shapes."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import requests
import requests.exceptions

from containai_rpc.engine.errors import translate_errors
from containai_rpc.engine.models import EngineEvent

# Container actions that change what a snapshot shows (kill is always followed by die);
# exec_*, attach, resize, top, health_status … are left out by the daemon itself.
WATCHED_ACTIONS = (
    "create",
    "start",
    "restart",
    "die",
    "stop",
    "pause",
    "unpause",
    "rename",
    "update",
    "destroy",
)


def docker_timestamp(ns: int) -> str:
    """Docker's `since`/`until` form with nanosecond precision: `seconds.nanoseconds`."""
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


class EventStream:
    """One window of managed-container events: iterate in one thread, `close()` from any.

    Iteration simply ends when the window's `until` passes *or* the connection drops (a
    broken stream ends like a finished one), so the reader tells them apart by the clock.
    """

    def __init__(self, context: str, endpoint: str, response: requests.Response) -> None:
        self._context = context
        self._endpoint = endpoint
        self._response = response

    def __iter__(self) -> Iterator[EngineEvent]:
        with translate_errors(self._context, self._endpoint):
            try:
                # The engine writes one JSON object per line, flushed per event.
                for line in self._response.iter_lines(chunk_size=None):
                    item = json.loads(line) if line else None
                    event = parse_event(self._context, item) if isinstance(item, dict) else None
                    if event is not None:
                        yield event
            except (requests.exceptions.ChunkedEncodingError, OSError):
                return  # dropped, or closed by `close()`

    def close(self) -> None:
        """Unblock the reader: shut the connection's socket down, then close it."""
        connection = self._response.raw.connection
        sock = connection.sock if connection is not None else None
        if sock is None:  # the stream has already ended
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()


def parse_event(context: str, raw: dict[str, Any]) -> EngineEvent | None:
    """Read both event shapes: old top-level `status/id` and API ≥ 1.52 `Action/Actor`."""
    actor = raw.get("Actor") or {}
    container_id = actor.get("ID") or raw.get("id")
    action = raw.get("Action") or raw.get("status") or ""
    if not container_id or not action:
        return None
    return EngineEvent(
        context=context,
        type=raw.get("Type") or "container",
        action=action.split(":", 1)[0].strip(),
        container_id=container_id,
        attributes=dict(actor.get("Attributes") or {}),
        time_nano=_event_time(raw),
    )


def _event_time(raw: dict[str, Any]) -> int:
    """`timeNano` where present, else the seconds of `time`; 0 when neither is usable."""
    try:
        return int(raw.get("timeNano") or int(raw.get("time") or 0) * 1_000_000_000)
    except (TypeError, ValueError):
        return 0

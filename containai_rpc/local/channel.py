"""JSON-RPC 2.0 with LSP framing over a byte stream, standard library only and blocking:
one request at a time, the server's requests to us and its notifications handled while
its answer is awaited. `cai` sends one request per process, so it needs no event loop."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, BinaryIO

Handler = Callable[[Any], Any]
"""A server→client request's handler: params → result (None is a valid result)."""
Listener = Callable[[str, Any], None]
"""Every server notification: (method, params)."""
METHOD_NOT_FOUND = -32601


class RpcError(Exception):
    """An error response from the server: `reason` is `data.reason` when there is one."""

    def __init__(self, code: int, message: str, data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data if isinstance(data, dict) else {}
        self.reason = str(self.data.get("reason", "error"))


class Closed(ConnectionError):
    """The server hung up (or could not be read) before it answered."""


class Channel:
    """One connection: `request` (blocks until its answer) and `notify`."""

    def __init__(
        self,
        reader: BinaryIO,
        write: Callable[[bytes], Any],
        handlers: dict[str, Handler],
        on_notification: Listener,
    ) -> None:
        self._reader = reader
        self._write = write
        self._handlers = handlers
        self._on_notification = on_notification
        self._next_id = 0
        self.answered = 0  # responses received: did the server ever speak?

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        try:
            self._write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError as exc:
            raise Closed(f"cannot write to the server: {exc}") from None

    def request(self, method: str, params: Any) -> Any:
        self._next_id += 1
        msg_id = self._next_id
        self._send({"id": msg_id, "method": method, "params": params})
        while True:
            message = self._read()
            if message is None:
                raise Closed("the server closed the connection")
            kind = message.get("method")
            if isinstance(kind, str):
                self._incoming(kind, message)
            elif message.get("id") == msg_id:
                self.answered += 1
                return _outcome(message)

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def _incoming(self, method: str, message: dict[str, Any]) -> None:
        if "id" not in message:
            self._on_notification(method, message.get("params"))
            return
        handler = self._handlers.get(method)
        if handler is None:
            error = {"code": METHOD_NOT_FOUND, "message": method}
            self._send({"id": message["id"], "error": error})
        else:
            self._send({"id": message["id"], "result": handler(message.get("params"))})

    def _read(self) -> dict[str, Any] | None:
        length = None
        try:
            while True:
                line = self._reader.readline()
                if not line:
                    return None
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                raise Closed("the server sent a message without Content-Length")
            body = self._reader.read(length)
        except (OSError, ValueError) as exc:
            raise Closed(f"cannot read from the server: {exc}") from None
        if len(body) < length:
            return None
        message = json.loads(body)
        return message if isinstance(message, dict) else {}


def _outcome(message: dict[str, Any]) -> Any:
    error = message.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        raise RpcError(
            code if isinstance(code, int) else -32603,
            str(error.get("message", "error")),
            error.get("data"),
        )
    return message.get("result")


def drive(coroutine: Any) -> Any:
    """Run a coroutine that awaits nothing asynchronous (a `Session`'s calls block) without
    an event loop: `cai` then never imports asyncio (a third of its start-up)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the command awaited an asyncio object: run it with asyncio.run")

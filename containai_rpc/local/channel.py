"""JSON-RPC 2.0 with LSP framing over a pair of asyncio streams, standard library only:
requests with their responses, the server's requests to us, and its notifications."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[Any]]
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
    """One connection: `request` and `notify` out; `run` reads and dispatches until EOF."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: Any,
        handlers: dict[str, Handler],
        on_notification: Listener,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._handlers = handlers
        self._on_notification = on_notification
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._closed = False
        self.answered = 0  # responses received: did the server ever speak?
        self._tasks: set[asyncio.Future[None]] = set()  # answers being worked out

    def _send(self, message: dict[str, Any]) -> None:
        if self._closed:
            raise Closed("the connection to the server is closed")
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self._writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def request(self, method: str, params: Any) -> Any:
        self._next_id += 1
        msg_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            self._send({"id": msg_id, "method": method, "params": params})
            await self._writer.drain()
            return await future
        finally:
            self._pending.pop(msg_id, None)

    async def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})
        await self._writer.drain()

    async def run(self) -> None:
        """Read until the server hangs up; then every pending request fails with Closed."""
        try:
            while (message := await self._read()) is not None:
                self._dispatch(message)
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            log.debug("connection lost: %s", exc)
        finally:
            self._closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(Closed("the server closed the connection"))

    async def _read(self) -> dict[str, Any] | None:
        length = None
        while True:
            line = await self._reader.readline()
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise ValueError("a message without Content-Length")
        message = json.loads(await self._reader.readexactly(length))
        return message if isinstance(message, dict) else {}

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if isinstance(method, str) and "id" in message:
            task = asyncio.ensure_future(self._answer(message["id"], method, message.get("params")))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif isinstance(method, str):
            self._on_notification(method, message.get("params"))
        else:
            future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
            if future is None or future.done():
                return
            self.answered += 1
            error = message.get("error")
            if isinstance(error, dict):
                code = error.get("code")
                future.set_exception(
                    RpcError(
                        code if isinstance(code, int) else -32603,
                        str(error.get("message", "error")),
                        error.get("data"),
                    )
                )
            else:
                future.set_result(message.get("result"))

    async def _answer(self, msg_id: Any, method: str, params: Any) -> None:
        handler = self._handlers.get(method)
        try:
            if handler is None:
                self._send({"id": msg_id, "error": {"code": METHOD_NOT_FOUND, "message": method}})
            else:
                self._send({"id": msg_id, "result": await handler(params)})
            await self._writer.drain()
        except (OSError, Closed) as exc:
            log.debug("could not answer %s: %s", method, exc)

"""A framing-level JSON-RPC client: raw bytes over the pipes of a real server process.

The pygls client cannot send what a broken or hostile peer sends (bad Content-Length,
truncated bodies, invalid JSON, ids on notifications), so the reliability tests talk to
`python -m containai_rpc` through this one. It records every response by id and every
notification, answers the server's own requests (progress tokens, questions), and can
hand a notification to a callback the moment it is parsed — which lets a test act at an
exact step of an operation (e.g. SIGKILL the engine on a `$/progress` report).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVER_COMMAND = [sys.executable, "-m", "containai_rpc"]
ALIVE_TIMEOUT_S = 30.0


class ServerGone(AssertionError):
    """The server exited (or stopped answering) while a test still needed it."""


@dataclass
class Message:
    """One message from the server, with the monotonic time it was parsed."""

    body: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def method(self) -> str | None:
        return self.body.get("method")

    @property
    def params(self) -> Any:
        return self.body.get("params")


def frame(body: bytes) -> bytes:
    """The LSP base protocol frame of one body."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    """One `containai-rpc` process driven with raw frames; stderr goes to `stderr_path`."""

    def __init__(
        self,
        env: dict[str, str],
        cwd: Path,
        stderr_path: Path,
        command: list[str] | None = None,
    ) -> None:
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "ab")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            command or SERVER_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=cwd,
        )
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: list[Message] = []
        self.on_notification: Callable[[Message], None] | None = None
        self.garbage: list[bytes] = []  # anything on stdout that is not a frame
        self.killed = False  # by the test, on purpose
        self.hung_at_shutdown = False
        self.reader_error: Exception | None = None
        self._ids = itertools.count(1)
        self._cv = threading.Condition()
        self._write_lock = threading.Lock()
        self._eof = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    # ------------------------------------------------------------------ reading

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            self._read_frames(out)
        except Exception as exc:  # a client bug must show as such, not as a dead server
            self.reader_error = exc
            raise
        finally:
            with self._cv:
                self._eof = True
                self._cv.notify_all()

    def _read_frames(self, out: Any) -> None:
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
                elif name.strip().lower() != b"content-type":
                    self.garbage.append(line)
            if length is None:
                self.garbage.append(b"<frame without Content-Length>")
                continue
            self._dispatch(json.loads(out.read(length)))

    def _dispatch(self, body: dict[str, Any]) -> None:
        if "method" not in body:
            key = body.get("id")
            if not isinstance(key, int | str | float | None):
                key = json.dumps(key)  # an unhashable id echoed back: still recorded
            with self._cv:
                self.responses[key] = body
                self._cv.notify_all()
            return
        message = Message(body)
        if "id" in body:  # a request from the server: progress token, question (dismissed)
            self.send({"jsonrpc": "2.0", "id": body["id"], "result": None})
        callback = self.on_notification
        if callback is not None:
            callback(message)
        with self._cv:
            self.notifications.append(message)
            self._cv.notify_all()

    # ------------------------------------------------------------------ writing

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are; a server that already exited is not an error here."""
        stdin = self.proc.stdin
        assert stdin is not None
        with self._write_lock:
            try:
                stdin.write(data)
                stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

    def send(self, message: Any) -> None:
        self.send_raw(frame(json.dumps(message).encode("utf-8", "surrogatepass")))

    def next_id(self) -> str:
        """This client's own ids: strings of their own, so fuzzed ids never collide."""
        return f"raw-{next(self._ids)}"

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def start_request(self, method: str, params: Any = None, **extra: Any) -> str:
        """Send a request and return its id without waiting."""
        rid = self.next_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method, **extra}
        if params is not None:
            message["params"] = params
        self.send(message)
        return rid

    def wait(self, rid: Any, timeout: float) -> dict[str, Any]:
        """The response to `rid`; ServerGone when the server exits or stays silent."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while rid not in self.responses:
                left = deadline - time.monotonic()
                if self._eof:
                    raise ServerGone(
                        f"server exited ({self.proc.poll()}) before answering {rid}"
                        f" (client reader: {self.reader_error!r})"
                    )
                if left <= 0:
                    raise ServerGone(f"no answer to request {rid} within {timeout} s")
                self._cv.wait(left)
            return self.responses.pop(rid)

    def request(
        self, method: str, params: Any = None, *, timeout: float = ALIVE_TIMEOUT_S, **extra: Any
    ) -> dict[str, Any]:
        """Send and wait: the whole response (`result` or `error`)."""
        return self.wait(self.start_request(method, params, **extra), timeout)

    def result(self, method: str, params: Any = None, *, timeout: float = ALIVE_TIMEOUT_S) -> Any:
        """The result of a request that must succeed."""
        response = self.request(method, params, timeout=timeout)
        assert "result" in response, (method, params, response)
        return response["result"]

    def initialize(self, capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
        caps = capabilities if capabilities is not None else {}
        result = self.result(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": caps,
                "initializationOptions": {"containai": {"protocolVersion": "1.0"}},
            },
        )
        self.notify("initialized", {})
        return result

    def wait_notification(
        self, where: Callable[[Message], bool], timeout: float, start: int = 0
    ) -> Message:
        """The first notification from index `start` on that matches."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for message in self.notifications[start:]:
                    if where(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise AssertionError("expected notification never came")
                self._cv.wait(left)

    # ------------------------------------------------------------------ lifecycle

    def alive(self) -> bool:
        return self.proc.poll() is None

    def assert_serving(self, timeout: float = ALIVE_TIMEOUT_S) -> dict[str, Any]:
        """The liveness probe every test ends with: `containai/list` answers with a result."""
        if not self.alive():
            raise ServerGone(f"server exited with {self.proc.returncode}")
        return self.result("containai/list", {}, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL on purpose, as a crash or the OOM killer would."""
        self.killed = True
        self._sigkill()

    def _sigkill(self) -> None:
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        if threading.current_thread() is not self._reader:  # a callback may kill
            self._reader.join(timeout=10)

    def close(self) -> int | None:
        """`shutdown` + `exit` when still running; the exit code (None if it had to be killed)."""
        code: int | None = None
        if self.alive():
            try:
                self.request("shutdown", None, timeout=15)
                self.notify("exit")
                code = self.proc.wait(timeout=15)
            except (ServerGone, subprocess.TimeoutExpired):
                self.hung_at_shutdown = True
                self._sigkill()
        else:
            code = self.proc.returncode
        self._reader.join(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        self._stderr.close()
        return code

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace")

"""A protocol session: reach a server, initialize, send requests, shut down.

The server is this user's shared one (`containai-rpc --listen`, started when none runs)
unless the call needs its own: a `--config` file, a `CONTAINAI_SERVER` command, a
started `process`, `CONTAINAI_SHARED_SERVER=0`, or a shared server that cannot be used
(said on stderr with `--verbose`; a socket that is not private to us is always said).
Standard library only: no pygls, pydantic or docker on `cai`'s path, and its calls block
(one request at a time), so `cai` needs no event loop (`channel.drive`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from containai_rpc.local.channel import Channel, Closed, RpcError
from containai_rpc.protocol.version import PROTOCOL_VERSION

if TYPE_CHECKING:  # subprocess and logging only for a private server: not on the shared path
    import subprocess

Confirm = Callable[[str, list[str]], str | None]
SHARED_ENV = "CONTAINAI_SHARED_SERVER"
"""`0`/`off`: every call starts its own private server, as before the shared one."""


def shared_wanted(config: str | None) -> bool:
    if config is not None or os.environ.get("CONTAINAI_SERVER"):
        return False
    return os.environ.get(SHARED_ENV, "1").lower() not in ("0", "off", "no", "false")


def client_cwd() -> str:
    """`$PWD` when it names the cwd (the shell's view, symlinks kept), else getcwd."""
    physical = os.getcwd()
    logical = os.environ.get("PWD", "")
    if os.path.isabs(logical):
        with contextlib.suppress(OSError):
            if os.path.samefile(logical, physical):
                return logical
    return physical


class Session:
    """One server conversation for the lifetime of one CLI command. Its methods are
    coroutines for its callers' sake; they block (no event loop is needed to run them)."""

    def __init__(
        self,
        *,
        confirm: Confirm | None = None,
        on_progress: Callable[[str], None] | None = None,
        verbose: bool = False,
        watch: bool = False,
        process: subprocess.Popen[bytes] | None = None,
        config: str | None = None,
    ) -> None:
        """`process`: a server already started with `process.spawn` (else the shared one,
        or one is started); `config`: a config file for a private server."""
        self._confirm = confirm
        self._on_progress = on_progress
        self._verbose = verbose
        self._watch = watch
        self._proc = process
        self._config = config
        self._channel: Channel | None = None
        self._stream: Any = None  # what to close at the end (socket or pipe)
        self.shared = False

    async def __aenter__(self) -> Session:
        self.open()
        return self

    def open(self) -> None:
        if self._proc is None and shared_wanted(self._config):
            for attempt in range(2):  # a server that was just idling out: once more
                if not self._open_shared():
                    break
                try:
                    self._initialize()
                    return
                except RpcError:
                    if self._channel is None or self._channel.answered or attempt:
                        raise
                    self._verbose_note("the shared server hung up; trying again")
                    self._detach()
        self.shared = False
        if self._proc is None:
            from containai_rpc.cli.process import spawn

            self._proc = spawn(self._verbose, self._config)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        stdin = self._proc.stdin

        def write(data: bytes) -> None:
            stdin.write(data)
            stdin.flush()

        self._attach(self._proc.stdout, write, stdin)
        self._initialize()

    def _open_shared(self) -> bool:
        from containai_rpc.local import connect, rundir

        try:
            sock, pid, started = connect.connect()
        except rundir.Refused as exc:
            print(f"[WARN] {exc}; using a private server", file=sys.stderr)
            return False
        except connect.Unavailable as exc:
            self._verbose_note(f"shared server unavailable ({exc}); using a private server")
            return False
        self._verbose_note(f"{'started' if started else 'using'} the shared server (pid {pid})")
        self._attach(sock.makefile("rb"), sock.sendall, sock)
        self.shared = True
        return True

    def _verbose_note(self, text: str) -> None:
        if self._verbose:
            print(f"[INFO] {text}", file=sys.stderr)

    def _attach(self, reader: BinaryIO, write: Callable[[bytes], Any], stream: Any) -> None:
        self._stream = stream
        handlers = {
            "window/showMessageRequest": self._show_message_request,
            "window/workDoneProgress/create": lambda _params: None,
        }
        self._channel = Channel(reader, write, handlers, self._notification)

    def _detach(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.close()
        self._channel = self._stream = None

    def _show_message_request(self, params: Any) -> Any:
        if self._confirm is None or not isinstance(params, dict):
            return None
        titles = [str(a.get("title")) for a in params.get("actions") or [] if isinstance(a, dict)]
        answer = self._confirm(str(params.get("message", "")), titles)
        return {"title": answer} if answer else None

    def _notification(self, method: str, params: Any) -> None:
        if method == "$/progress" and isinstance(params, dict):
            value = params.get("value")
            message = value.get("message") if isinstance(value, dict) else None
            if message and self._on_progress is not None:
                self._on_progress(str(message))
        elif method == "window/logMessage" and isinstance(params, dict):
            import logging

            logging.getLogger(__name__).debug("server: %s", params.get("message"))

    def _initialize(self) -> None:
        window: dict[str, Any] = {"workDoneProgress": self._on_progress is not None}
        if self._confirm is not None:
            window["showMessage"] = {}
        options = {"protocolVersion": PROTOCOL_VERSION, "watch": self._watch, "cwd": client_cwd()}
        self.call(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": {"window": window},
                "initializationOptions": {"containai": options},
            },
        )
        assert self._channel is not None
        self._channel.notify("initialized", {})

    async def request(self, method: str, params: Any) -> Any:
        return self.call(method, params)

    def call(self, method: str, params: Any) -> Any:
        """`request`, for callers without an event loop."""
        channel = self._channel
        assert channel is not None
        try:
            return channel.request(method, params)
        except (Closed, OSError):
            message = "The server exited unexpectedly (see the messages above)."
            raise RpcError(-32099, message, None) from None

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        channel = self._channel
        if channel is None:
            return
        with contextlib.suppress(RpcError, OSError, Closed):
            channel.request("shutdown", None)
            channel.notify("exit", None)
        self._detach()
        proc = self._proc
        if proc is not None:
            import subprocess

            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

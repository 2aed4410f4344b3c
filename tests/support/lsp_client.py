"""A pytest-lsp client of the real server, usable in and outside pytest (bench/ uses
`start_server`/`stop_server`). The fixtures built on it, and how tests use it, are in
tests/protocol/conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import ClientServerConfig, LanguageClient, LspSpecificationWarning

from containai_rpc.jsonrpc import converter_factory
from containai_rpc.protocol.models import PROTOCOL_VERSION
from containai_rpc.protocol.registry import NOTIFICATIONS
from containai_rpc.server.notify import CONTAINER_CHANGED

SERVER_COMMAND = [sys.executable, "-m", "containai_rpc"]
FIRST_ACTION = object()  # `client.answer` default: click the first offered button
SHUTDOWN_TIMEOUT_S = 15.0
LSP_TYPES = get_converter()
PROGRESS_KINDS: dict[str, type[Any]] = {
    "begin": types.WorkDoneProgressBegin,
    "report": types.WorkDoneProgressReport,
    "end": types.WorkDoneProgressEnd,
}

Answer = Callable[[types.ShowMessageRequestParams], str | None]


@dataclass(frozen=True)
class Push:
    """One server → client notification, with the monotonic time it arrived."""

    method: str
    params: dict[str, Any]
    received_at: float


class CaiClient(LanguageClient):
    """A pytest-lsp client that keeps params as plain JSON and records our pushes."""

    def __init__(self) -> None:
        super().__init__(converter_factory=converter_factory)
        self.notifications: asyncio.Queue[Push] = asyncio.Queue()
        self.pushes: list[Push] = []
        self.progress: asyncio.Queue[tuple[int | str, Any]] = asyncio.Queue()
        self.answer: str | Answer | object | None = FIRST_ACTION
        self.questions: list[types.ShowMessageRequestParams] = []
        self.started_pid: int | None = None  # set by start_server
        self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)(_on_progress_created)
        self.feature(types.PROGRESS)(_on_progress)
        self.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)(_on_question)
        for spec in NOTIFICATIONS:
            self.feature(spec.name)(_recorder(spec.name))

    @property
    def server_pid(self) -> int:
        assert self.started_pid is not None, "unknown: servers were started concurrently"
        return self.started_pid

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """A containai/* request; the result as plain JSON (errors raise JsonRpcException)."""
        return await self.protocol.send_request_async(method, params or {})

    async def expect(
        self,
        method: str,
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """The next `method` notification matching `where` (waits at most `timeout` s)."""
        return (await self.expect_push(method, where, timeout)).params

    async def expect_push(
        self,
        method: str,
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
    ) -> Push:
        """Like `expect`, with the arrival time (for latency measurements)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching {method} within {timeout} s")
            try:
                push = await asyncio.wait_for(self.notifications.get(), remaining)
            except TimeoutError:
                raise TimeoutError(f"no matching {method} within {timeout} s") from None
            if push.method == method and (where is None or where(push.params)):
                return push

    def expect_progress(self, token: int | str) -> None:
        """Announce a client-chosen token (pytest-lsp warns about unknown tokens)."""
        self.progress_reports.setdefault(token, [])

    async def next_progress(self, token: int | str, kind: str, timeout: float = 10.0) -> Any:
        """The next `$/progress` value of `kind` for `token`."""
        deadline = time.monotonic() + timeout
        while True:
            got, value = await asyncio.wait_for(
                self.progress.get(), max(0.0, deadline - time.monotonic())
            )
            if got == token and value.get("kind") == kind:
                return value

    def changes(self) -> list[dict[str, Any]]:
        """Every containerChanged received so far, in order."""
        return [p.params for p in self.pushes if p.method == CONTAINER_CHANGED]


# pygls wants plain functions as features; the client comes in as `ls`.


def _recorder(method: str) -> Callable[[CaiClient, Any], None]:
    def record(ls: CaiClient, params: Any) -> None:
        push = Push(method, params, time.monotonic())
        ls.pushes.append(push)
        ls.notifications.put_nowait(push)

    return record


def _on_progress_created(ls: CaiClient, params: types.WorkDoneProgressCreateParams) -> None:
    ls.progress_reports.setdefault(params.token, [])


def _on_progress(ls: CaiClient, params: types.ProgressParams) -> None:
    if params.token not in ls.progress_reports:
        warnings.warn(
            f"Unknown progress token: {params.token!r}", LspSpecificationWarning, stacklevel=2
        )
    value = LSP_TYPES.structure(params.value, PROGRESS_KINDS[params.value["kind"]])
    ls.progress_reports.setdefault(params.token, []).append(value)
    ls.progress.put_nowait((params.token, params.value))


def _on_question(
    ls: CaiClient, params: types.ShowMessageRequestParams
) -> types.MessageActionItem | None:
    ls.questions.append(params)
    titles = [a.title for a in params.actions or []]
    answer = ls.answer
    if answer is FIRST_ACTION:
        title = titles[0] if titles else None
    elif callable(answer):
        title = answer(params)
    else:
        title = answer  # type: ignore[assignment]
    return types.MessageActionItem(title=title) if title is not None else None


class StartServer(Protocol):
    def __call__(
        self,
        env: dict[str, str] | None = None,
        *,
        work_done_progress: bool = True,
        show_message: bool = True,
    ) -> Awaitable[CaiClient]: ...


async def start_server(
    env: dict[str, str],
    *,
    work_done_progress: bool = True,
    show_message: bool = True,
    command: list[str] | None = None,
) -> CaiClient:
    """Start and initialize one server (also usable outside pytest, e.g. by bench/);
    `command`: another one than SERVER_COMMAND (e.g. a `--remote auto` forwarder)."""
    config = ClientServerConfig(
        server_command=command or SERVER_COMMAND, client_factory=CaiClient, server_env=env
    )
    before = _server_processes()
    client = await config.start()
    assert isinstance(client, CaiClient)
    started = _server_processes() - before
    client.started_pid = started.pop() if len(started) == 1 else None
    window = types.WindowClientCapabilities(
        work_done_progress=work_done_progress,
        show_message=types.ShowMessageRequestClientCapabilities() if show_message else None,
    )
    await client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(window=window),
            initialization_options={"containai": {"protocolVersion": PROTOCOL_VERSION}},
        )
    )
    return client


def _server_processes() -> set[int]:
    """Our children running SERVER_COMMAND (pygls keeps the process it started to itself)."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (proc / "cmdline").read_bytes().decode().split("\0")[:-1]
        except (OSError, ValueError, IndexError):  # not a process, or gone meanwhile
            continue
        if ppid == os.getpid() and argv == SERVER_COMMAND:
            found.add(int(proc.name))
    return found


async def stop_server(client: CaiClient) -> None:
    """shutdown + exit, bounded: a server a test broke on purpose is terminated instead."""
    with contextlib.suppress(TimeoutError, RuntimeError, ConnectionError):
        await asyncio.wait_for(client.shutdown_session(), SHUTDOWN_TIMEOUT_S)
    await client.stop()

"""A protocol session: start `containai-rpc`, initialize, send requests, shut down."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.io_ import run_async
from pygls.lsp.client import LanguageClient

from containai_rpc import __version__
from containai_rpc.cli.process import RpcError, spawn
from containai_rpc.jsonrpc import converter_factory
from containai_rpc.protocol.models import PROTOCOL_VERSION
from containai_rpc.protocol.registry import NOTIFICATIONS

log = logging.getLogger(__name__)

Confirm = Callable[[str, list[str]], str | None]


class Session:
    """One server process for the lifetime of one CLI command."""

    def __init__(
        self,
        *,
        confirm: Confirm | None = None,
        on_progress: Callable[[str], None] | None = None,
        verbose: bool = False,
        watch: bool = False,
        process: asyncio.subprocess.Process | None = None,
    ) -> None:
        """`process`: a server already started with `process.spawn` (else one is started)."""
        self.client = LanguageClient("cai", __version__, converter_factory=converter_factory)
        self._confirm = confirm
        self._on_progress = on_progress
        self._verbose = verbose
        self._watch = watch
        self._stop = threading.Event()
        self._proc = process
        self._reader: asyncio.Task[None] | None = None
        self._register()

    def _register(self) -> None:
        @self.client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def show_message_request(
            _ls: LanguageClient, params: types.ShowMessageRequestParams
        ) -> types.MessageActionItem | None:
            if self._confirm is None:
                return None
            titles = [a.title for a in params.actions or []]
            answer = self._confirm(params.message, titles)
            return types.MessageActionItem(title=answer) if answer else None

        @self.client.feature(types.PROGRESS)
        def progress(_ls: LanguageClient, params: types.ProgressParams) -> None:
            value = params.value
            message = value.get("message") if isinstance(value, dict) else None
            if message and self._on_progress is not None:
                self._on_progress(str(message))

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(_ls: LanguageClient, params: types.LogMessageParams) -> None:
            log.debug("server: %s", params.message)

        def live_push(_ls: LanguageClient, params: Any) -> None:
            """One command needs no live state; pygls would warn about unknown methods."""

        for note in NOTIFICATIONS:
            self.client.feature(note.name)(live_push)

    async def __aenter__(self) -> Session:
        if self._proc is None:
            self._proc = await spawn(self._verbose)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self.client.protocol.set_writer(self._proc.stdin)
        self._reader = asyncio.create_task(
            run_async(
                stop_event=self._stop,
                reader=self._proc.stdout,
                protocol=self.client.protocol,
                logger=log,
            )
        )
        capabilities = types.ClientCapabilities(
            window=types.WindowClientCapabilities(
                work_done_progress=self._on_progress is not None,
                show_message=types.ShowMessageRequestClientCapabilities()
                if self._confirm is not None
                else None,
            )
        )
        await self._call(
            self.client.initialize_async(
                types.InitializeParams(
                    process_id=os.getpid(),
                    root_uri=None,
                    capabilities=capabilities,
                    initialization_options={
                        # one request and gone: no event watchers for us
                        "containai": {"protocolVersion": PROTOCOL_VERSION, "watch": self._watch}
                    },
                )
            )
        )
        self.client.initialized(types.InitializedParams())
        return self

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call(self.client.protocol.send_request_async(method, params))

    async def _call(self, awaitable: Any) -> Any:
        reader = self._reader
        assert reader is not None
        pending = asyncio.ensure_future(awaitable)
        done, _ = await asyncio.wait({pending, reader}, return_when=asyncio.FIRST_COMPLETED)
        if pending not in done:
            pending.cancel()
            raise RpcError(-32099, "The server exited unexpectedly (see the messages above).", None)
        try:
            return pending.result()
        except JsonRpcException as exc:
            raise RpcError(exc.code, exc.message, exc.data) from None

    async def __aexit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            try:
                await asyncio.wait_for(self.client.shutdown_async(None), timeout=5)
                self.client.exit(None)
            except (TimeoutError, JsonRpcException, ConnectionError, RuntimeError):
                proc.kill()
        self._stop.set()
        try:
            await asyncio.wait_for(proc.wait(), timeout=5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if self._reader is not None:
            self._reader.cancel()

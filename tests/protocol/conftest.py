"""pytest-lsp fixtures for protocol tests: the real server over stdio on a real engine.

    async def test_something(cai: CaiClient, sandbox: Sandbox) -> None:
        listed = await cai.request("containai/list")
        change = await cai.expect(CONTAINER_CHANGED, lambda p: p["kind"] == "stopped")

(`CONTAINER_CHANGED`/`ENGINE_STATUS` come from containai_rpc.server.notify; fixtures are
used by name, their types come from tests/support/lsp_client.py.)

- `cai`: a server (`python -m containai_rpc`) started with `sandbox.env` — pytest-lsp
  *replaces* the environment, so the sandbox's HOME/XDG/CONTAINAI_* are all it sees —
  and initialized with `initializationOptions.containai.protocolVersion = "1.0"` and the
  client capabilities `window.workDoneProgress` and `window.showMessage`.
- `cai_server(env=..., work_done_progress=..., show_message=...)`: start more servers, or
  servers with another environment or fewer capabilities (e.g. `DOCKER_HOST` of the
  `dedicated_engine` fixture from tests/conftest.py). All are shut down after the test.
- Every `containai/*` notification of the registry lands in `client.notifications` (an
  asyncio.Queue of `Push`) and in `client.pushes` (the whole history, for checks such as
  "revisions without gaps"; `client.changes()` is the containerChanged part).
  `await client.expect(method, where, timeout)` takes from the queue until one matches
  (others are skipped, but stay in `pushes`); `expect_push` also gives the arrival time.
- `window/showMessageRequest` is answered with `client.answer`: `FIRST_ACTION` (default),
  an action title, None (dismissed) or a callable `(params) -> title | None`; the
  questions asked are in `client.questions`.
- `$/progress` is recorded in pytest-lsp's `client.progress_reports[token]` (as its own
  client does) and also queued in `client.progress` as `(token, value)`, so a test can
  act at a given step (`await client.next_progress(token, "report")`). Announce a
  client-chosen token first with `client.expect_progress(token)`: like pytest-lsp, the
  client warns about tokens neither created nor announced.
- `start_server(env)` / `stop_server(client)` (tests/support/lsp_client.py) do the same
  outside pytest; bench/ uses them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tests.support.lsp_client import CaiClient, StartServer, start_server, stop_server


@pytest_asyncio.fixture
async def cai_server(sandbox: Any) -> AsyncIterator[StartServer]:
    """Factory of initialized servers (default env: the test's sandbox)."""
    started: list[CaiClient] = []

    async def start(
        env: dict[str, str] | None = None,
        *,
        work_done_progress: bool = True,
        show_message: bool = True,
    ) -> CaiClient:
        client = await start_server(
            dict(sandbox.env if env is None else env),
            work_done_progress=work_done_progress,
            show_message=show_message,
        )
        started.append(client)
        return client

    yield start
    for client in started:
        await stop_server(client)


@pytest_asyncio.fixture
async def cai(cai_server: StartServer) -> CaiClient:
    """The default server of a test: sandbox env, progress and confirmations supported."""
    return await cai_server()

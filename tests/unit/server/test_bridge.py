"""The bridge between pygls and the service, without a client or an engine: cancellation
(`$/cancelRequest` and the progress's cancel button only raise a flag; the worker decides
at its checkpoint), `$/progress` ordering, and error translation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import ListResult
from containai_rpc.protocol.registry import method
from containai_rpc.server.bridge import (
    INVALID_PARAMS,
    REQUEST_CANCELLED,
    REQUEST_FAILED,
    RequestHooks,
    WorkDoneCancels,
    call_service,
)
from containai_rpc.service import Hooks

LIST = method("containai/list")
RESULT = ListResult(revision=7, containers=[])
WAIT_S = 5.0


class Progress:
    """pygls's `work_done_progress` as the bridge uses it: what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def begin(self, token: Any, value: Any) -> None:
        self.sent.append(("begin", value.title))

    def report(self, token: Any, value: Any) -> None:
        self.sent.append(("report", value.message))

    def end(self, token: Any, value: Any) -> None:
        self.sent.append(("end", None))

    async def create_async(self, token: Any) -> None:
        return None


class Worker:
    """A service call that waits at a point the test chooses: `reached` once running,
    then it waits for its cancel flag and either stops at its checkpoint or returns."""

    def __init__(self, *, checkpoint: bool) -> None:
        self.checkpoint = checkpoint
        self.reached = threading.Event()

    def __call__(self, params: Any, hooks: Hooks) -> ListResult:
        self.reached.set()
        flag = hooks.cancelled.__self__  # the request's threading.Event
        assert flag.wait(WAIT_S), "the cancel flag was never raised"
        if self.checkpoint:
            hooks.checkpoint()  # raises DomainError("cancelled")
        return RESULT  # past its point of no return: it finishes

    async def wait_reached(self) -> None:
        assert await asyncio.to_thread(self.reached.wait, WAIT_S)


def bridge(progress: Progress | None = None) -> tuple[RequestHooks, WorkDoneCancels]:
    ls = SimpleNamespace(client_capabilities=None, work_done_progress=progress or Progress())
    cancels = WorkDoneCancels()
    return RequestHooks(ls, asyncio.get_running_loop(), cancels), cancels  # type: ignore[arg-type]


def start(hooks: RequestHooks, raw: Any, fn: Callable[..., Any]) -> asyncio.Task[Any]:
    return asyncio.ensure_future(call_service(hooks, raw, LIST, fn))


async def test_cancel_request_stops_the_worker_at_its_checkpoint():
    hooks, _ = bridge()
    worker = Worker(checkpoint=True)
    task = start(hooks, {}, worker)
    await worker.wait_reached()
    task.cancel()  # what pygls does on $/cancelRequest
    with pytest.raises(JsonRpcException) as err:
        await task
    assert err.value.code == REQUEST_CANCELLED
    assert err.value.data["reason"] == "cancelled"


async def test_cancel_request_past_the_point_of_no_return_gives_the_result():
    hooks, _ = bridge()
    worker = Worker(checkpoint=False)
    task = start(hooks, {}, worker)
    await worker.wait_reached()
    task.cancel()
    assert await task == RESULT.wire()


async def test_the_progress_cancel_button_raises_the_flag():
    progress = Progress()
    hooks, cancels = bridge(progress)
    worker = Worker(checkpoint=True)
    task = start(hooks, {"workDoneToken": "t-1"}, worker)
    await worker.wait_reached()
    cancels.cancel("t-1")  # window/workDoneProgress/cancel
    with pytest.raises(JsonRpcException) as err:
        await task
    assert err.value.code == REQUEST_CANCELLED  # answered as a $/cancelRequest is
    assert err.value.data["reason"] == "cancelled"
    assert progress.sent[-1] == ("end", None)
    cancels.cancel("t-1")  # after the end the token is forgotten: nothing to set


async def test_progress_is_begin_reports_end_in_order():
    progress = Progress()
    hooks, _ = bridge(progress)

    def work(params: Any, h: Hooks) -> ListResult:
        for step in ("one", "two", "three"):
            h.progress(step)
        return RESULT

    assert await start(hooks, {"workDoneToken": 5}, work) == RESULT.wire()
    assert progress.sent == [
        ("begin", "containai/list"),
        ("report", "one"),
        ("report", "two"),
        ("report", "three"),
        ("end", None),
    ]


async def test_progress_ends_when_the_call_fails():
    progress = Progress()
    hooks, _ = bridge(progress)

    def fail(params: Any, h: Hooks) -> ListResult:
        h.progress("trying")
        raise DomainError("engineUnavailable", "Docker is not running", context="default")

    with pytest.raises(JsonRpcException) as err:
        await start(hooks, {"workDoneToken": "t"}, fail)
    assert [kind for kind, _ in progress.sent] == ["begin", "report", "end"]
    assert err.value.code == REQUEST_FAILED
    assert err.value.message == "Docker is not running"
    assert err.value.data["reason"] == "engineUnavailable"
    assert err.value.data["context"] == "default"


@pytest.mark.parametrize("raw", [{"context": 5}, ["default"], "default"])
async def test_invalid_params_are_32602_and_never_reach_the_service(raw: Any):
    hooks, _ = bridge()
    called: list[Any] = []
    with pytest.raises(JsonRpcException) as err:
        await start(hooks, raw, lambda p, h: called.append(p))
    assert err.value.code == INVALID_PARAMS
    assert err.value.data["reason"] == "invalidParams"
    assert called == []


async def test_no_progress_without_a_token_or_a_client_that_creates_one():
    progress = Progress()
    hooks, _ = bridge(progress)
    assert await start(hooks, None, lambda p, h: RESULT) == RESULT.wire()
    assert progress.sent == []

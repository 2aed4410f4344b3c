"""The engine I/O the SDK leaves to us, on the real engine: an exec cut at its deadline,
and an event stream whose reader a `close()` from another thread ends at once."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import pytest

from containai_rpc.engine import EngineSet
from containai_rpc.engine.client import Engine
from containai_rpc.engine.events import EngineEvent, EventStream
from containai_rpc.engine.models import MANAGED_LABEL, WORKSPACE_LABEL

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"
WINDOW_NS = 300 * 10**9


def labelled_container(sandbox: Any, name: str) -> Any:
    """A running managed container of this sandbox (removed by its cleanup)."""
    labels = {MANAGED_LABEL: "true", WORKSPACE_LABEL: str(sandbox.root / "ws" / name)}
    return sandbox.client.containers.run(
        TINY, name=f"{sandbox.volume}-{name}", labels=labels, detach=True
    )


def follow(stream: EventStream) -> tuple[threading.Thread, queue.Queue[EngineEvent | None]]:
    """Read `stream` in a thread; every event lands in the queue, None when it ended."""
    seen: queue.Queue[EngineEvent | None] = queue.Queue()

    def read() -> None:
        for event in stream:
            seen.put(event)
        seen.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, seen


def next_event_of(seen: queue.Queue[EngineEvent | None], container_id: str) -> EngineEvent:
    deadline = time.monotonic() + 30
    while True:
        event = seen.get(timeout=max(0.0, deadline - time.monotonic()))
        assert event is not None, "the stream ended before the container's event"
        if event.container_id == container_id:
            return event


def assert_close_ends_the_reader(engine: Engine, sandbox: Any, name: str) -> None:
    """Events flow, then `close()` from this thread ends the reader's blocking read."""
    now = time.time_ns()
    stream = engine.events(since_ns=now, until_ns=now + WINDOW_NS)
    reader, seen = follow(stream)
    container = labelled_container(sandbox, name)
    assert next_event_of(seen, container.id).action in ("create", "start")
    began = time.monotonic()
    stream.close()
    reader.join(10)
    assert not reader.is_alive(), "close() did not end the reader"
    assert time.monotonic() - began < 10
    while (event := seen.get(timeout=1)) is not None:  # what was buffered, then the end
        assert event.container_id == container.id


def test_exec_answers_output_and_exit_code(sandbox: Any) -> None:
    engine = EngineSet(env=sandbox.env).get()
    container = labelled_container(sandbox, "exec")
    result = engine.exec(container.id, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert result.exit_code == 3
    assert sorted(result.output.splitlines()) == ["err", "out"]  # two streams: any order


def test_exec_is_cut_at_its_deadline(sandbox: Any) -> None:
    engine = EngineSet(env=sandbox.env).get()
    container = labelled_container(sandbox, "deadline")
    began = time.monotonic()
    result = engine.exec(container.id, ["sh", "-c", "echo started; sleep 60"], timeout_s=1.0)
    assert result.exit_code is None and result.output == "started\n"
    assert time.monotonic() - began < 10


def test_closing_an_event_stream_ends_its_reader(sandbox: Any) -> None:
    assert_close_ends_the_reader(EngineSet(env=sandbox.env).get(), sandbox, "events")


def test_an_event_stream_ends_with_its_window(sandbox: Any) -> None:
    """The past part of the window is replayed, then the stream ends at `until`."""
    engine = EngineSet(env=sandbox.env).get()
    container = labelled_container(sandbox, "window")
    now = time.time_ns()
    stream = engine.events(since_ns=now - 60 * 10**9, until_ns=now + 10**9)
    reader, seen = follow(stream)
    assert next_event_of(seen, container.id).action in ("create", "start")
    reader.join(10)
    assert not reader.is_alive(), "the stream outlived its window"

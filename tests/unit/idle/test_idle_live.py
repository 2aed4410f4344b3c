"""The server's idle view over an in-memory engine: the check's state becomes snapshot
fields (one `updated`, not one per read), a warning goes out once per stop time, a
postpone re-reads at once, and a stop after the check's poweroff carries `reason: idle`
while any other stop does not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from containai_rpc.core.idle import MARKER_FILE
from containai_rpc.engine import ContainerInfo
from containai_rpc.protocol.idle import IdleWarning
from containai_rpc.protocol.models import (
    ContainerChanged,
    EngineStatus,
    TargetParams,
)
from containai_rpc.service import Service
from containai_rpc.service import watch as watch_module
from tests.support.fake_engine import FakeDocker, FakeEngine
from tests.support.live_events import TIMEOUT_S, Events


class CheckState:
    """What the container's idle check would have written: the state file's content."""

    def __init__(self) -> None:
        self.text = ""
        self.reads = 0

    def counting(self, stop_in: int, period: int = 20) -> None:
        now = int(time.time())
        self.text = (
            f"checked={now}\nidle_stop={period}\ncheck=1\nactive=0\n"
            f"idle_since={now + stop_in - period}\nauto_stop_at={now + stop_in}\n"
        )

    def answer(self, info: ContainerInfo, path: str) -> bytes | None:
        if not path.endswith("idle.state"):
            return None
        self.reads += 1
        return self.text.encode() if self.text else None


@pytest.fixture
def engine(fake_docker: FakeDocker, monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    monkeypatch.setattr(watch_module, "BACKOFF_MIN_S", 0.01)
    engine = fake_docker["default"]
    engine.live_events = True
    engine.add_container("app-main", workspace="/w/app")
    return engine


@pytest.fixture
async def live(
    fake_service: Service, engine: FakeEngine
) -> AsyncIterator[tuple[Events, CheckState]]:
    seen, check = Events(), CheckState()
    engine.on_read = check.answer
    fake_service.watch(asyncio.get_running_loop(), seen.emit)
    await seen.next(lambda e: isinstance(e, EngineStatus) and e.health == "ok")
    yield seen, check
    fake_service.unwatch()
    for stream in engine.streams:
        stream.close()


def _change(kind: str) -> Callable[[Any], bool]:
    return lambda e: isinstance(e, ContainerChanged) and e.kind == kind


async def test_countdown_warning_postpone_and_idle_reason(
    live: tuple[Events, CheckState], engine: FakeEngine, fake_service: Service
):
    seen, check = live
    check.counting(stop_in=15)  # far from the 5 s warning lead of a 20 s period
    fake_service.postpone_idle_stop(TargetParams(container="app-main"))  # reads at once
    updated = await seen.next(_change("updated"))
    assert updated.container.idle_stop == "20s" and updated.container.auto_stop_at
    assert not any(isinstance(e, IdleWarning) for e in seen.seen)

    check.counting(stop_in=3)  # the next read is due within one check interval
    warning = await seen.next(lambda e: isinstance(e, IdleWarning))
    assert (warning.container_name, warning.context) == ("app-main", "default")
    reads = check.reads
    async with asyncio.timeout(TIMEOUT_S):  # two more reads of the same stop time
        while check.reads < reads + 2:
            await asyncio.sleep(0.05)
    assert sum(isinstance(e, IdleWarning) for e in seen.seen) == 1  # once per stop time

    info = engine.by_name("app-main")
    engine.files[(info.id, MARKER_FILE)] = f"{int(time.time())}\n".encode()
    engine.set_state("app-main", "exited")
    engine.emit("die", "app-main")
    stopped = await seen.next(_change("stopped"))
    assert stopped.reason == "idle"
    assert stopped.container.auto_stop_at is None and stopped.container.idle_stop is None


async def test_a_stop_without_the_marker_has_no_reason(
    live: tuple[Events, CheckState], engine: FakeEngine
):
    seen, _ = live
    engine.set_state("app-main", "exited")
    engine.emit("die", "app-main")
    stopped = await seen.next(_change("stopped"))
    assert stopped.reason is None


async def test_a_busy_container_shows_no_countdown(
    live: tuple[Events, CheckState], fake_service: Service
):
    seen, check = live
    check.counting(stop_in=15)
    check.text = check.text.replace("active=0", "active=1")
    result = fake_service.postpone_idle_stop(TargetParams(container="app-main"))
    assert result.idle_stop == "20s" and result.auto_stop_at is not None
    updated = await seen.next(_change("updated"))
    assert updated.container.idle_stop == "20s"
    assert updated.container.idle_since is None and updated.container.auto_stop_at is None
    listed = fake_service.list(
        __import__("containai_rpc.protocol.models").protocol.models.ListParams()
    )
    assert listed.containers[0].idle_stop == "20s"


async def test_what_runs_at_connect_is_read_at_once(fake_service: Service, engine: FakeEngine):
    """No waiting for a poll round: the first listing triggers a read."""
    seen, check = Events(), CheckState()
    check.counting(stop_in=15)
    engine.on_read = check.answer
    fake_service.watch(asyncio.get_running_loop(), seen.emit)
    try:
        updated = await seen.next(_change("updated"))
        assert updated.container.name == "app-main" and updated.container.auto_stop_at
    finally:
        fake_service.unwatch()
        for stream in engine.streams:
            stream.close()

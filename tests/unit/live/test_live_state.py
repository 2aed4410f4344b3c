"""The service's live state over in-memory engines: Docker events in, domain events out
(containerChanged with increasing revisions and snapshots, engineStatus), debouncing,
reconnecting after the event stream ends, and `list` answered from the cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import ListParams
from containai_rpc.service import Service
from containai_rpc.service import watch as watch_module
from containai_rpc.service.inventory import list_containers
from tests.support.fake_engine import FakeDocker, FakeEngine
from tests.support.live_events import Events


@pytest.fixture
def engine(fake_docker: FakeDocker, monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    monkeypatch.setattr(watch_module, "BACKOFF_MIN_S", 0.01)  # quick reconnects
    engine = fake_docker["default"]
    engine.live_events = True
    engine.add_container("app-main", workspace="/w/app")
    engine.add_container("lib-main", workspace="/w/lib", state="exited")
    return engine


@pytest.fixture
async def live(fake_service: Service, engine: FakeEngine) -> AsyncIterator[Events]:
    """The service watching the fake engine, connected (`ok`) and listed."""
    events = Events()
    fake_service.watch(asyncio.get_running_loop(), events.emit)
    await events.status("ok")
    yield events
    fake_service.unwatch()
    for stream in engine.streams:
        stream.close()


async def test_an_event_becomes_a_container_changed_with_the_next_revision(
    live: Events, engine: FakeEngine
):
    engine.set_state("app-main", "exited")
    engine.emit("die", "app-main")
    stopped = await live.change("app-main")
    assert (stopped.kind, stopped.revision, stopped.container.status) == ("stopped", 1, "stopped")

    engine.start(engine.by_name("app-main").id)
    engine.emit("start", "app-main")
    started = await live.change("app-main")
    assert (started.kind, started.revision, started.container.status) == ("started", 2, "running")
    assert started.container.workspace == "/w/app"

    cid = engine.by_name("app-main").id
    engine.remove(cid, force=True)
    engine.emit("destroy", cid)
    removed = await live.change("app-main", "removed")
    assert removed.revision == 3


async def test_a_burst_of_events_is_one_inspect_and_one_change(
    live: Events, engine: FakeEngine, fake_service: Service
):
    inspects = len(engine.called("inspect"))
    engine.set_state("app-main", "exited")
    for action in ("kill", "die", "stop"):  # what one `docker stop` sends
        engine.emit(action, "app-main")
    await live.change("app-main", "stopped")
    state = fake_service._live
    assert state is not None and state._refresh == {}  # nothing left to inspect
    assert len(engine.called("inspect")) == inspects + 1
    assert [c.kind for c in live.changes()] == ["stopped"]


async def test_an_identical_snapshot_is_no_change(live: Events, engine: FakeEngine):
    engine.emit("exec_start", "app-main")  # nothing visible changed
    engine.set_state("lib-main", "running")
    engine.emit("start", "lib-main")
    started = await live.change("lib-main")
    assert started.revision == 1
    assert [c.container.name for c in live.changes()] == ["lib-main"]


async def test_the_stream_ending_reconnects_and_reports_the_engine_down_then_up(
    live: Events, engine: FakeEngine, fake_docker: FakeDocker, fake_service: Service
):
    fake_docker.unreachable.add("default")
    engine.down = DomainError("engineUnavailable", "Cannot connect to the Docker daemon")
    engine.streams[-1].end()  # the connection dropped
    down = await live.status("error")
    assert "Cannot connect" in down.message or "not reachable" in down.message
    listed = await asyncio.to_thread(fake_service.list, ListParams())
    assert listed.containers == []
    assert listed.errors and listed.errors[0].context == "default"

    del engine.containers[engine.by_name("lib-main").id]  # removed while it was down
    fake_docker.unreachable.discard("default")
    engine.down = None
    await live.status("ok")
    removed = await live.change("lib-main", "removed")  # the relisting's diff
    assert removed.revision == 1
    engine.set_state("app-main", "paused")
    engine.emit("pause", "app-main")  # events flow on the new stream
    assert (await live.change("app-main")).revision == 2


async def test_list_answers_from_the_cache_with_the_live_revision(
    live: Events, engine: FakeEngine, fake_service: Service, fake_docker: FakeDocker
):
    engine.set_state("lib-main", "running")
    engine.emit("start", "lib-main")
    await live.change("lib-main", "started")
    listings = len(engine.called("list_managed"))

    cached = await asyncio.to_thread(fake_service.list, ListParams())
    one = await asyncio.to_thread(fake_service.list, ListParams(context="default"))

    assert len(engine.called("list_managed")) == listings  # no Docker call
    direct = list_containers(fake_docker.engine_set(), ListParams())
    assert cached.revision == one.revision == 1
    assert cached.containers == one.containers == direct.containers
    assert cached.errors is None


async def test_an_unwatched_context_is_listed_from_its_engine(
    live: Events, engine: FakeEngine, fake_service: Service
):
    listed = await asyncio.to_thread(fake_service.list, ListParams(context="elsewhere"))
    assert listed.containers == []
    assert listed.errors and listed.errors[0].context == "elsewhere"


def test_without_watching_list_asks_the_engines(fake_service: Service, engine: FakeEngine):
    listed = fake_service.list(ListParams())
    assert listed.revision == 0
    assert [c.name for c in listed.containers] == ["app-main", "lib-main"]
    assert engine.called("list_managed")

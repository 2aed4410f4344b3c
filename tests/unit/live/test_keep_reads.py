"""The keep policy in the live state: config.toml is read when it changed, not after every
request; a change made by a request here or by anyone else is pushed as `updated`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.gc import KeepParams
from containai_rpc.protocol.models import ContainerChanged, EngineStatus, ListParams
from containai_rpc.service import Service
from containai_rpc.service.keepsource import KeepSource
from containai_rpc.service.livestate import LiveEvent
from containai_rpc.service.summary import KeepPolicy
from containai_rpc.workspace import userconfig
from containai_rpc.workspace.state import set_keep
from tests.support.fake_engine import FakeDocker

TIMEOUT_S = 5.0


class Reads:
    """Counts readings of the user config (every `UserConfig.load`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = userconfig.load_user_config

        def counting() -> dict[str, object]:
            self.count += 1
            return real()

        monkeypatch.setattr(userconfig, "load_user_config", counting)


@pytest.fixture
async def watched(
    fake_service: Service, fake_docker: FakeDocker
) -> AsyncIterator[asyncio.Queue[LiveEvent]]:
    engine = fake_docker["default"]
    engine.live_events = True
    engine.add_container("app-main", workspace="/w/app")
    queue: asyncio.Queue[LiveEvent] = asyncio.Queue()
    fake_service.watch(asyncio.get_running_loop(), queue.put_nowait)
    async with asyncio.timeout(TIMEOUT_S):
        while not isinstance(event := await queue.get(), EngineStatus) or event.health != "ok":
            pass
    yield queue
    fake_service.unwatch()
    for stream in engine.streams:
        stream.close()


async def next_change(queue: asyncio.Queue[LiveEvent]) -> ContainerChanged:
    async with asyncio.timeout(TIMEOUT_S):
        while not isinstance(event := await queue.get(), ContainerChanged):
            pass
        return event


async def test_requests_do_not_reread_the_config_unless_it_changed(
    watched: asyncio.Queue[LiveEvent], fake_service: Service, monkeypatch: pytest.MonkeyPatch
):
    reads = Reads(monkeypatch)
    for _ in range(5):
        listed = await asyncio.to_thread(fake_service.list, ListParams())
        assert [c.keep for c in listed.containers] == [False]
    assert reads.count == 0

    kept = await asyncio.to_thread(fake_service.keep, KeepParams(container="app-main", keep=True))
    assert kept.keep is True
    change = await next_change(watched)  # pushed after the request, no event needed
    assert (change.kind, change.container.keep, change.revision) == ("updated", True, 1)
    assert reads.count == 2  # the request's own reading, then the live state's one

    for _ in range(3):
        await asyncio.to_thread(fake_service.list, ListParams())
    assert reads.count == 2


async def test_a_config_changed_by_someone_else_is_read_once_and_pushed(
    watched: asyncio.Queue[LiveEvent], fake_service: Service, monkeypatch: pytest.MonkeyPatch
):
    reads = Reads(monkeypatch)
    set_keep("app-main", True)  # another process's `cai keep`
    listed = await asyncio.to_thread(fake_service.list, ListParams())
    assert [c.keep for c in listed.containers] == [True]
    change = await next_change(watched)
    assert (change.kind, change.container.keep) == ("updated", True)
    await asyncio.to_thread(fake_service.list, ListParams())
    assert reads.count == 1


def test_keep_source_reads_on_change_and_keeps_the_last_good_rule(tmp_path: Path):
    path = tmp_path / "config.toml"
    answers: list[KeepPolicy | DomainError] = []

    def load() -> KeepPolicy:
        answer = answers.pop(0)
        if isinstance(answer, DomainError):
            raise answer
        return answer

    source = KeepSource(load, lambda: path)
    kept = KeepPolicy(kept=frozenset({"a"}))
    answers.append(KeepPolicy())
    assert source.current() == (KeepPolicy(), False)  # no file: the empty rule
    assert source.current() == (KeepPolicy(), False) and source.reads == 1

    path.write_text("[keep]\ncontainers = ['a']\n")
    answers.append(kept)
    assert source.current() == (kept, True)
    assert source.current() == (kept, False) and source.reads == 2

    path.write_text("[keep\n")
    answers.append(DomainError("stateFileInvalid", "broken"))
    assert source.current() == (kept, False)  # unreadable: the last good rule

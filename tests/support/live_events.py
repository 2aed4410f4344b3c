"""The live state's emitted events, in order, awaitable by condition (unit tests over the
in-memory engine)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from containai_rpc.protocol.models import ContainerChanged, EngineStatus
from containai_rpc.service.livestate import LiveEvent

TIMEOUT_S = 5.0


class Events:
    """What the live state emitted, in order, awaitable by condition."""

    def __init__(self) -> None:
        self.seen: list[LiveEvent] = []
        self._queue: asyncio.Queue[LiveEvent] = asyncio.Queue()

    def emit(self, event: LiveEvent) -> None:
        self.seen.append(event)
        self._queue.put_nowait(event)

    async def next(self, where: Callable[[Any], bool]) -> Any:
        async with asyncio.timeout(TIMEOUT_S):
            while not where(event := await self._queue.get()):
                pass
            return event

    async def change(self, name: str, kind: str | None = None) -> ContainerChanged:
        return await self.next(
            lambda e: (
                isinstance(e, ContainerChanged)
                and e.container.name == name
                and (kind is None or e.kind == kind)
            )
        )

    async def status(self, health: str) -> EngineStatus:
        return await self.next(lambda e: isinstance(e, EngineStatus) and e.health == health)

    def changes(self) -> list[ContainerChanged]:
        return [e for e in self.seen if isinstance(e, ContainerChanged)]

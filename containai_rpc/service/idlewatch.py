"""The server's view of the containers' idle auto-stop: it reads each running container's
idle check state, keeps `idleStop`/`idleSince`/`autoStopAt` in the live snapshots, and
warns (`IdleWarning`) shortly before a stop. It decides nothing: the container stops
itself, whether or not a server is watching.

Runs on the live state's loop; reads happen in the live executor. A round reads every
running container, then the next one is due after the shortest check interval among them
(at most `POLL_S`), or earlier when a warning falls due.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from containai_rpc.core.idle import DEFAULT_WARNING_S, IdleView, rfc3339, warning_lead
from containai_rpc.engine import EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.idle import IdleWarning
from containai_rpc.protocol.models import ContainerChanged
from containai_rpc.service.idle import read_idle
from containai_rpc.service.livecache import LiveCache
from containai_rpc.workspace.userconfig import UserConfig

POLL_S = 60.0
MIN_DELAY_S = 0.5
NEW_RETRY_S = 2.0
"""A container seen running for less than NEW_WINDOW_S without an idle state yet (its check
has not written one) is read again after NEW_RETRY_S, not after a whole POLL_S."""
NEW_WINDOW_S = 60.0

Key = tuple[str, str]
Submit = Callable[[Callable[[], Any], Callable[[Any], None]], None]


class IdleMonitor:
    """Owned by the live state; `start` on its loop, `poke` after a postpone or a run."""

    def __init__(
        self,
        engines: Callable[[], EngineSet],
        cache: LiveCache,
        submit: Submit,
        emit: Callable[[ContainerChanged | IdleWarning], None],
    ) -> None:
        self._engines = engines
        self._cache = cache
        self._submit = submit
        self._emit = emit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._busy = False
        self._again = False
        self._warned: set[tuple[Key, int]] = set()
        self._first_seen: dict[Key, float] = {}

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._schedule(0.0)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._loop = None

    def poke(self) -> None:
        """Read again now (on the loop): something may have moved a stop time."""
        self._schedule(0.0)

    def _schedule(self, delay: float) -> None:
        if self._loop is None:
            return
        if self._busy:
            self._again = True
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(max(0.0, delay), self._round)

    def _round(self) -> None:
        self._timer, self._busy = None, True
        running = self._cache.running()

        def job() -> tuple[dict[Key, IdleView | None], int]:
            engines = self._engines()
            views = {}
            for context, cid in running:
                try:
                    views[(context, cid)] = read_idle(engines.get(context), cid)
                except DomainError:
                    views[(context, cid)] = None
            return views, _warning_setting()

        self._submit(job, self._read)

    def _read(self, result: tuple[dict[Key, IdleView | None], int] | None) -> None:
        self._busy = False
        if self._loop is None:
            return
        views, lead_setting = result or ({}, DEFAULT_WARNING_S)
        now = time.time()
        delay = POLL_S
        for key, view in views.items():
            change = self._cache.set_idle(*key, view.wire() if view is not None else None)
            if change is not None:
                self._emit(change)
            if view is None and now - self._first_seen.setdefault(key, now) < NEW_WINDOW_S:
                delay = min(delay, NEW_RETRY_S)
            if view is None or not view.enabled:
                continue
            delay = min(delay, float(view.check_s))
            if not view.counting:
                continue
            lead = warning_lead(view.period_s, lead_setting)
            warn_at = view.auto_stop_at - lead
            if now >= warn_at:
                self._warn(key, view)
            else:
                delay = min(delay, warn_at - now)
        live = set(views)
        self._warned = {w for w in self._warned if w[0] in live}
        self._first_seen = {k: t for k, t in self._first_seen.items() if k in live}
        if self._again:
            self._again, delay = False, 0.0
        self._schedule(max(MIN_DELAY_S, delay))

    def _warn(self, key: Key, view: IdleView) -> None:
        if (key, view.auto_stop_at) in self._warned:
            return
        self._warned.add((key, view.auto_stop_at))
        info = self._cache.info(*key)
        name = info.name if info is not None else key[1][:12]
        stop_at = rfc3339(view.auto_stop_at)
        self._emit(IdleWarning(container_name=name, context=key[0], auto_stop_at=stop_at))


def _warning_setting() -> int:
    """`[lifecycle] idle_warning`, read each round (a damaged config: the default)."""
    try:
        return UserConfig.load().settings().idle_warning_s
    except DomainError:
        return DEFAULT_WARNING_S

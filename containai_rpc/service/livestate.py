"""The live state of one server process: Docker events in, domain events out — pushed,
never polled, at no idle cost. `Service` owns it; the transport only forwards what it
emits (`ContainerChanged` with its revision and snapshot, `EngineStatus`).

- One `Watcher` thread per managed context (service/watch.py) reads that engine's events;
  they are handed to the caller's asyncio loop with `call_soon_threadsafe`.
- On the loop, events are debounced per container (`DEBOUNCE_S` after the last one, at
  most `MAX_DELAY_S` after the first: a `docker stop` is kill+die+stop) and only that
  container is re-inspected, in a small executor. A `destroy` needs no inspect and is
  applied at once, so a removal is always pushed before a re-creation of the same name.
- At connect and at every reconnect the watcher subscribes first, then lists; the listing
  is diffed against the cache and the differences emitted. Every `BACKSTOP_S` one cheap
  list call per engine catches anything missed.
- `keep` lives partly in the user config, which Docker events know nothing about: the
  policy is re-read only when that file changed (`KeepSource`), checked where it is used
  and after the requests that may write it (`keep_may_have_changed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from containai_rpc.engine import ContainerInfo, EngineEvent, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.idle import IdleWarning
from containai_rpc.protocol.models import (
    ContainerChanged,
    ContextError,
    EngineStatus,
    ListParams,
    ListResult,
)
from containai_rpc.service.idle import was_idle_stop
from containai_rpc.service.idlewatch import IdleMonitor
from containai_rpc.service.inventory import list_containers
from containai_rpc.service.keepsource import KeepSource
from containai_rpc.service.livecache import LiveCache
from containai_rpc.service.summary import KeepPolicy
from containai_rpc.service.watch import Watcher

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.05
MAX_DELAY_S = 0.2
BACKSTOP_S = 60.0
SETTLE_WAIT_S = 10.0  # how long `list` waits for a context's first connect attempt
IDLE: Literal["idle"] = "idle"  # ContainerChanged.reason (not an error's `Reason`)

LiveEvent = ContainerChanged | EngineStatus | IdleWarning
Emit = Callable[[LiveEvent], None]
Key = tuple[str, str]  # (context, container id)


@dataclass
class _Refresh:
    """Debounce state of one container: a timer, or an inspect in flight (maybe dirty)."""

    first: float
    timer: asyncio.TimerHandle | None = None
    running: bool = False
    again: bool = False


@dataclass
class _Context:
    """Loop-side state of one watched context."""

    watcher: Watcher
    settled: threading.Event = field(default_factory=threading.Event)
    status: EngineStatus | None = None
    touched: set[str] | None = None  # ids with events while a (re)listing is under way


class LiveState:
    """The live cache, its watchers and what they emit. `engines` is called when the
    watchers start (a damaged config then becomes an `engineStatus` error)."""

    def __init__(
        self, engines: Callable[[], EngineSet], emit: Emit, keeps: KeepSource | None = None
    ) -> None:
        self._engines = engines
        self._emit = emit
        self.keeps = keeps or KeepSource()
        self.cache = LiveCache()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="containai-live")
        self._contexts: dict[str, _Context] = {}
        self._refresh: dict[Key, _Refresh] = {}
        self._backstop: asyncio.TimerHandle | None = None
        self._keep = KeepPolicy()
        self.idle = IdleMonitor(engines, self.cache, self._submit, emit)

    # ------------------------------------------------------------------ lifecycle

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """One watcher per managed context, then the backstop timer (on `loop`)."""
        if self._loop is not None:
            return
        self._loop = loop
        try:
            engines = self._engines()
            names = engines.managed_contexts()
        except DomainError as exc:  # e.g. a damaged config file: say so, serve requests
            self._set_status(EngineStatus(health="error", message=exc.message, context="-"))
            return
        for name in names:
            watcher = Watcher(name, engines, self)
            self._contexts[name] = _Context(watcher)
            watcher.start()
        self._backstop = loop.call_later(BACKSTOP_S, self._run_backstop)
        self.idle.start(loop)

    def stop(self) -> None:
        """End the watchers and drop pending work (nothing to flush)."""
        self.idle.stop()
        for ctx in self._contexts.values():
            ctx.watcher.stop()
        for r in self._refresh.values():
            if r.timer is not None:
                r.timer.cancel()
        self._refresh.clear()
        if self._backstop is not None:
            self._backstop.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ requests (workers)

    def list(self, p: ListParams) -> ListResult:
        """`containai/list` from the cache: the watched engines that answer from memory, the
        ones known to be down as `errors` (no probe). Anything else — an unwatched context,
        or before `start` — is the service's own listing."""
        names = [p.context] if p.context else list(self._contexts)
        watched = [self._contexts[n] for n in names if n in self._contexts]
        if not names or len(watched) != len(names):
            return self._list_engines(p)
        for ctx in watched:
            ctx.settled.wait(SETTLE_WAIT_S)
        down = {
            name: ctx.status.message
            for name, ctx in zip(names, watched, strict=True)
            if ctx.status is not None and ctx.status.health == "error"
        }
        result = self.cache.list([n for n in names if n not in down], self._keep_now())
        if result is None:  # connecting, or it answers but refuses events (`warning`)
            return self._list_engines(p)
        errors = [ContextError(context=name, message=msg) for name, msg in down.items()]
        return result.model_copy(update={"errors": errors or None})

    def _list_engines(self, p: ListParams) -> ListResult:
        return list_containers(self._engines(), p, self.cache.revision, self._keep_now())

    def keep_may_have_changed(self) -> None:
        """After a request that may have written `keep` state: recheck it off the loop."""
        if self._loop is not None and self._contexts:
            self._submit(self._keep_now, lambda _: None)

    def idle_may_have_changed(self) -> None:
        """After a postpone: read the containers' idle state again now."""
        self._post(self.idle.poke)

    # ------------------------------------------------------------------ watcher threads

    def connecting(self, context: str) -> None:
        self._post(self._on_connecting, context)

    def listed(self, context: str, infos: list[ContainerInfo], status: EngineStatus) -> None:
        self._post(self._on_listed, context, infos, self._keep_now(), status)

    def event(self, event: EngineEvent) -> None:
        self._post(self._on_event, event)

    def down(self, context: str, status: EngineStatus) -> None:
        self._post(self._on_down, context, status)

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        """From any thread onto the loop (dropped once the loop is gone)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # closed since the check: shutting down
            loop.call_soon_threadsafe(fn, *args)

    # ------------------------------------------------------------------ on the loop

    def _on_connecting(self, context: str) -> None:
        self._contexts[context].touched = set()

    def _on_listed(
        self, context: str, infos: list[ContainerInfo], keep: KeepPolicy, status: EngineStatus
    ) -> None:
        """A (re)connect's listing: emit the diff, then re-inspect what moved meanwhile."""
        ctx = self._contexts[context]
        self._keep = keep
        self._set_status(status)
        self._push(self.cache.load(context, infos, keep))
        self.idle.poke()  # the idle state of what runs there, without waiting for a round
        touched, ctx.touched = ctx.touched or set(), None
        for cid in touched:
            self._schedule((context, cid), 0.0)
        ctx.settled.set()

    def _on_event(self, event: EngineEvent) -> None:
        ctx = self._contexts.get(event.context)
        if ctx is None:
            return
        if ctx.touched is not None:
            ctx.touched.add(event.container_id)
        key = (event.context, event.container_id)
        if event.action == "destroy":  # final for this id: no inspect, no debounce
            r = self._refresh.pop(key, None)
            if r is not None and r.timer is not None:
                r.timer.cancel()
            self._push([self.cache.apply(event.context, event.container_id, None, self._keep)])
            return
        self._schedule(key, DEBOUNCE_S)

    def _on_down(self, context: str, status: EngineStatus) -> None:
        self.cache.mark_down(context)
        self._set_status(status)
        self._contexts[context].settled.set()

    # ------------------------------------------------------------------ debounced refresh

    def _schedule(self, key: Key, delay: float) -> None:
        loop = self._loop
        assert loop is not None
        now = loop.time()
        r = self._refresh.get(key)
        if r is None:
            r = self._refresh[key] = _Refresh(first=now)
        if r.running:
            r.again = True
            return
        if r.timer is not None:
            r.timer.cancel()
        wait = max(0.0, min(delay, r.first + MAX_DELAY_S - now))
        r.timer = loop.call_later(wait, self._inspect, key, r)

    def _inspect(self, key: Key, r: _Refresh) -> None:
        r.timer, r.running = None, True
        context, cid = key

        def job() -> tuple[ContainerInfo | None, KeepPolicy, bool]:
            engine = self._engines().get(context)
            info = engine.inspect(cid)
            idle = info is not None and was_idle_stop(engine, info)
            return info, self._keep_now(), idle

        self._submit(job, lambda result: self._inspected(key, r, result))

    def _inspected(
        self, key: Key, r: _Refresh, result: tuple[ContainerInfo | None, KeepPolicy, bool] | None
    ) -> None:
        if self._refresh.get(key) is not r:  # destroyed (or shut down) meanwhile: stale
            return
        r.running = False
        if result is not None:
            info, keep, idle = result
            change = self.cache.apply(key[0], key[1], info, keep)
            if change is not None and change.kind == "stopped" and idle:
                change = change.model_copy(update={"reason": IDLE})
            if change is not None and change.kind in ("started", "created", "recreated"):
                self.idle.poke()  # its idle check reports from its first seconds
            self._push([change])
        if r.again and result is not None:  # events came while it was inspected: again
            r.again, r.first = False, asyncio.get_running_loop().time()
            self._schedule(key, DEBOUNCE_S)
        else:  # done, or the engine failed: its watcher reconnects and relists
            del self._refresh[key]

    def _run_backstop(self) -> None:
        """Every BACKSTOP_S: one list call per connected engine; re-inspect what differs."""
        assert self._loop is not None
        self._backstop = self._loop.call_later(BACKSTOP_S, self._run_backstop)
        for name in [n for n in self._contexts if self.cache.is_warm(n)]:

            def job(name: str = name) -> tuple[str, dict[str, str]]:
                self._keep_now()
                return name, self._engines().get(name).managed_states()

            self._submit(job, self._backstop_listed)

    def _backstop_listed(self, result: tuple[str, dict[str, str]] | None) -> None:
        if result is None:
            return
        context, states = result
        cached = self.cache.states(context)
        for cid in cached.keys() | states.keys():
            if cached.get(cid) != states.get(cid):
                self._schedule((context, cid), 0.0)

    # ------------------------------------------------------------------ keep

    def _keep_now(self) -> KeepPolicy:
        """The keep rule now (from any thread); a change found here is emitted."""
        keep, changed = self.keeps.current()
        if changed:
            self._post(self._keep_loaded, keep)
        return keep

    def _keep_loaded(self, keep: KeepPolicy) -> None:
        self._keep = keep
        self._push(self.cache.recheck_keep(keep))

    # ------------------------------------------------------------------ helpers

    def _submit(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run a blocking job in the live executor; `done(result or None)` on the loop."""

        def finished(fut: Future[Any]) -> None:
            result = None
            if not fut.cancelled():
                exc = fut.exception()
                if exc is None:
                    result = fut.result()
                elif not isinstance(exc, DomainError):
                    log.warning("live state job failed: %r", exc)
            done(result)

        try:
            future = self._executor.submit(job)
        except RuntimeError:  # executor shut down: the server is stopping
            return
        future.add_done_callback(lambda f: self._post(finished, f))

    def _push(self, changes: list[ContainerChanged | None]) -> None:
        for change in changes:
            if change is not None:
                self._emit(change)

    def _set_status(self, status: EngineStatus) -> None:
        ctx = self._contexts.get(status.context)
        previous = ctx.status if ctx is not None else None
        if previous is not None and (previous.health, previous.message) == (
            status.health,
            status.message,
        ):
            return
        if ctx is not None:
            ctx.status = status
        self._emit(status)

"""Live state in the server: Docker events in, `containai/containerChanged` and
`containai/engineStatus` out — pushed, never polled, at no idle cost.

- One watcher thread per managed context reads that engine's managed-container events in
  `until`-bounded windows (`WINDOW_S`) with a continuous `since`, so a reconnect replays
  what it missed. Events are handed to the event loop with `call_soon_threadsafe`.
- On the loop, events are debounced per container (`DEBOUNCE_S` after the last one, at
  most `MAX_DELAY_S` after the first: a `docker stop` is kill+die+stop) and only that
  container is re-inspected, in a small executor. A `destroy` needs no inspect and is
  applied at once, so a removal is always pushed before a re-creation of the same name.
- At connect and at every reconnect the watcher subscribes first, then lists (so nothing
  falls between the two); the listing is diffed against the cache and the differences
  pushed. Every `BACKSTOP_S` one cheap list call per engine catches anything missed.
- Engine health: `ok` once subscribed and listed, `error` when the engine does not answer
  (retried with backoff `BACKOFF_MIN_S` → `BACKOFF_MAX_S`, forever: the server never
  exits because an engine went away), `warning` when it answers but refuses the events
  subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from containai_rpc.engine import ContainerInfo, Engine, EngineEvent, EngineSet
from containai_rpc.engine.client import EventStream
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import (
    ContainerChanged,
    ContextError,
    EngineStatus,
    ListParams,
    ListResult,
)
from containai_rpc.service import Hooks, Service
from containai_rpc.service.inventory import list_containers
from containai_rpc.service.live import LiveCache
from containai_rpc.service.summary import KeepPolicy

log = logging.getLogger(__name__)

CONTAINER_CHANGED = "containai/containerChanged"
ENGINE_STATUS = "containai/engineStatus"
DEBOUNCE_S = 0.05
MAX_DELAY_S = 0.2
BACKSTOP_S = 60.0
WINDOW_S = 300.0
BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 5.0
SETTLE_WAIT_S = 10.0  # how long `list` waits for a context's first connect attempt
_ERROR_REASONS = ("engineUnavailable", "contextNotFound")
_NS = 1_000_000_000

Notify = Callable[[str, dict[str, Any]], None]
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

    watcher: _Watcher
    settled: threading.Event = field(default_factory=threading.Event)
    status: EngineStatus | None = None
    touched: set[str] | None = None  # ids with events while a (re)listing is under way


class LiveServer:
    """The live cache of one server process, its watchers and what they push."""

    def __init__(self, service: Service, notify: Notify) -> None:
        self._service = service
        self._notify = notify
        self.cache = LiveCache()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="containai-live")
        self._contexts: dict[str, _Context] = {}
        self._refresh: dict[Key, _Refresh] = {}
        self._backstop: asyncio.TimerHandle | None = None
        self._keep = KeepPolicy()

    # ------------------------------------------------------------------ lifecycle

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """At `initialized`: one watcher per managed context, then the backstop timer."""
        if self._loop is not None:
            return
        self._loop = loop
        try:
            engines = self._service.engines
            names = engines.managed_contexts()
        except DomainError as exc:  # e.g. a damaged config file: say so, serve requests
            self._set_status(EngineStatus(health="error", message=exc.message, context="-"))
            return
        for name in names:
            watcher = _Watcher(name, engines, self)
            self._contexts[name] = _Context(watcher)
            watcher.start()
        self._backstop = loop.call_later(BACKSTOP_S, self._run_backstop)

    def stop(self) -> None:
        """At `shutdown`: end the watchers and drop pending work (nothing to flush)."""
        for ctx in self._contexts.values():
            ctx.watcher.stop()
        for r in self._refresh.values():
            if r.timer is not None:
                r.timer.cancel()
        self._refresh.clear()
        if self._backstop is not None:
            self._backstop.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ requests

    def list(self, p: ListParams, hooks: Hooks | None = None) -> ListResult:
        """`containai/list` from the cache: the watched engines that answer from memory, the
        ones known to be down as `errors` (no probe). Anything else — an unwatched context,
        or before `initialized` — is the service's own listing."""
        names = [p.context] if p.context else list(self._contexts)
        watched = [self._contexts[n] for n in names if n in self._contexts]
        if not names or len(watched) != len(names):
            return list_containers(self._service.engines, p, revision=self.cache.revision)
        for ctx in watched:
            ctx.settled.wait(SETTLE_WAIT_S)
        down = {
            name: ctx.status.message
            for name, ctx in zip(names, watched, strict=True)
            if ctx.status is not None and ctx.status.health == "error"
        }
        result = self.cache.list([n for n in names if n not in down], self._load_keep())
        if result is None:  # connecting, or it answers but refuses events (`warning`)
            return list_containers(self._service.engines, p, revision=self.cache.revision)
        errors = [ContextError(context=name, message=msg) for name, msg in down.items()]
        return result.model_copy(update={"errors": errors or None})

    def after_request(self) -> None:
        """A request may have changed `keep` (config, not Docker): recheck it off the loop."""
        if self._loop is not None and self._contexts:
            self._submit(self._load_keep, self._keep_loaded)

    # ------------------------------------------------------------------ watcher → loop

    def post(self, fn: Callable[..., None], *args: Any) -> None:
        """From any thread onto the loop (dropped once the loop is gone)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # closed since the check: shutting down
            loop.call_soon_threadsafe(fn, *args)

    def on_connecting(self, context: str) -> None:
        self._contexts[context].touched = set()

    def on_listed(
        self, context: str, infos: list[ContainerInfo], keep: KeepPolicy, status: EngineStatus
    ) -> None:
        """A (re)connect's listing: push the diff, then re-inspect what moved meanwhile."""
        ctx = self._contexts[context]
        self._keep = keep
        self._set_status(status)
        self._push(self.cache.load(context, infos, keep))
        touched, ctx.touched = ctx.touched or set(), None
        for cid in touched:
            self._schedule((context, cid), 0.0)
        ctx.settled.set()

    def on_event(self, event: EngineEvent) -> None:
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

    def on_down(self, context: str, status: EngineStatus) -> None:
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
        engines = self._service.engines

        def job() -> tuple[ContainerInfo | None, KeepPolicy]:
            return engines.get(context).inspect(cid), self._load_keep()

        self._submit(job, lambda result: self._inspected(key, r, result))

    def _inspected(
        self, key: Key, r: _Refresh, result: tuple[ContainerInfo | None, KeepPolicy] | None
    ) -> None:
        if self._refresh.get(key) is not r:  # destroyed (or shut down) meanwhile: stale
            return
        r.running = False
        if result is not None:
            info, keep = result
            self._push([self.cache.apply(key[0], key[1], info, keep)])
        if r.again and result is not None:  # events came while it was inspected: again
            r.again, r.first = False, asyncio.get_running_loop().time()
            self._schedule(key, DEBOUNCE_S)
        else:  # done, or the engine failed: its watcher reconnects and relists
            del self._refresh[key]

    def _run_backstop(self) -> None:
        """Every BACKSTOP_S: one list call per connected engine; re-inspect what differs."""
        assert self._loop is not None
        self._backstop = self._loop.call_later(BACKSTOP_S, self._run_backstop)
        engines = self._service.engines
        for name in [n for n in self._contexts if self.cache.is_warm(n)]:

            def job(name: str = name) -> tuple[str, dict[str, str], KeepPolicy]:
                return name, engines.get(name).managed_states(), self._load_keep()

            self._submit(job, self._backstop_listed)

    def _backstop_listed(self, result: tuple[str, dict[str, str], KeepPolicy] | None) -> None:
        if result is None:
            return
        context, states, keep = result
        cached = self.cache.states(context)
        for cid in cached.keys() | states.keys():
            if cached.get(cid) != states.get(cid):
                self._schedule((context, cid), 0.0)
        self._keep_loaded(keep)

    def _keep_loaded(self, keep: KeepPolicy | None) -> None:
        if keep is not None:
            self._keep = keep
            self._push(self.cache.recheck_keep(keep))

    # ------------------------------------------------------------------ helpers

    def _submit(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run a blocking job in the live executor; `done(result or None)` on the loop."""
        loop = self._loop
        assert loop is not None

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
        future.add_done_callback(lambda f: self.post(finished, f))

    def _load_keep(self) -> KeepPolicy:
        """The keep rule now; the last good one when the config cannot be read."""
        try:
            return KeepPolicy.load()
        except DomainError:
            return self._keep

    def _push(self, changes: list[ContainerChanged | None]) -> None:
        for change in changes:
            if change is not None:
                self._notify(CONTAINER_CHANGED, change.wire())

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
        self._notify(ENGINE_STATUS, status.wire())


class _StreamLost(Exception):
    """The event stream ended before its window did: reconnect (the engine may be fine)."""


class _Watcher(threading.Thread):
    """Reads one engine's events forever: subscribe, list, stream windows, reconnect."""

    def __init__(self, context: str, engines: EngineSet, live: LiveServer) -> None:
        super().__init__(name=f"containai-events-{context}", daemon=True)
        self.context = context
        self._engines = engines
        self._live = live
        self._stopped = threading.Event()
        self._stream: EventStream | None = None
        self._since_ns: int | None = None  # continuous across windows and reconnects
        self._until_ns = 0
        self._connected = False

    def stop(self) -> None:
        self._stopped.set()
        stream = self._stream
        if stream is not None:
            stream.close()

    def run(self) -> None:
        backoff = BACKOFF_MIN_S
        while not self._stopped.is_set():
            self._connected = False
            began = time.monotonic()
            try:
                self._connect_and_follow()
            except _StreamLost:
                if time.monotonic() - began > BACKOFF_MAX_S:
                    backoff = BACKOFF_MIN_S
                    continue  # it had been working: reconnect right away
            except DomainError as exc:
                self._down(exc)
            except Exception as exc:  # a bug must not end live updates: log, retry
                log.exception("event watcher for context %s failed", self.context)
                self._down(DomainError("engineError", f"Event watcher failed: {exc!r}"))
            if self._connected:
                backoff = BACKOFF_MIN_S
            self._stopped.wait(backoff)  # backoff between reconnects, not synchronisation
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _connect_and_follow(self) -> None:
        engine = self._engines.get(self.context)
        info = engine.info(refresh=True)
        self._live.post(self._live.on_connecting, self.context)
        stream = self._open(engine, self._since_ns or time.time_ns())
        infos = engine.list_managed()
        status = EngineStatus(
            health="ok",
            message=f"Docker {info.server_version} (API {info.api_version}) is reachable",
            context=self.context,
            endpoint=engine.endpoint,
        )
        self._live.post(self._live.on_listed, self.context, infos, _keep_or_empty(), status)
        self._connected = True
        while not self._stopped.is_set():
            for event in stream:
                self._since_ns = max(self._since_ns or 0, event.time_nano)
                self._live.post(self._live.on_event, event)
            if self._stopped.is_set():
                return
            if time.time_ns() < self._until_ns:
                raise _StreamLost
            stream = self._open(engine, self._until_ns)

    def _open(self, engine: Engine, since_ns: int) -> EventStream:
        """The next window; `since` only moves forward, so nothing is skipped."""
        self._since_ns = max(self._since_ns or 0, since_ns)
        self._until_ns = since_ns + int(WINDOW_S * _NS)
        stream = self._stream = engine.events(since_ns=since_ns, until_ns=self._until_ns)
        if self._stopped.is_set():
            stream.close()
        return stream

    def _down(self, exc: DomainError) -> None:
        self._stream = None
        self._engines.forget(self.context)
        if self._stopped.is_set():
            return
        try:
            endpoint: str | None = self._engines.endpoint(self.context)
        except DomainError:
            endpoint = None
        status = EngineStatus(
            health="error" if exc.reason in _ERROR_REASONS else "warning",
            message=f"{exc.message} (retrying)",
            context=self.context,
            endpoint=endpoint,
        )
        self._live.post(self._live.on_down, self.context, status)


def _keep_or_empty() -> KeepPolicy:
    try:
        return KeepPolicy.load()
    except DomainError:
        return KeepPolicy()

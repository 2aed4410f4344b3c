"""The live view of managed containers: snapshots, one revision counter, change kinds.

Pure bookkeeping — no threads of its own, no Docker calls, no pygls. The live state
(livestate.py) feeds it inspect results (after Docker events), full listings (at connect
and reconnect) and the backstop's cheap state listing; it answers `containai/list` and
returns the `ContainerChanged` facts to emit. Thread-safe: the live state mutates it on
its loop while `list` reads it from a worker thread.

Change kinds, from the snapshot before and after:
- `created` / `recreated`: an id not seen before. It is `recreated` when a container with
  the same context, name and workspace was removed less than `RECREATE_WINDOW_S` ago —
  what `fresh` and `reset` do (remove, then create the same name on the same workspace),
  and also what a `docker rm` followed by `cai run` amounts to. The removal is pushed as
  its own `removed` first (no waiting: removals must be as quick as any other change).
- `started`: now running, and before it was not, or it started again (new `startedAt`).
- `stopped`: was running/paused/restarting, now is not.
- `removed`: gone; carries the last snapshot with `status: "removed"`.
- `updated`: anything else that shows in the snapshot (rename, pause, `keep` …).
An identical snapshot is no change and consumes no revision.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from containai_rpc.core.states import ACTIVE
from containai_rpc.engine import ContainerInfo
from containai_rpc.protocol.models import (
    ChangeKind,
    ContainerChanged,
    ContainerSummary,
    ListResult,
)
from containai_rpc.service.summary import KeepPolicy, to_summary

RECREATE_WINDOW_S = 30.0
_IDLE_FIELDS = ("idle_stop", "idle_since", "auto_stop_at")


@dataclass(frozen=True)
class _Entry:
    info: ContainerInfo
    summary: ContainerSummary


def change_kind(old: ContainerSummary, new: ContainerSummary) -> ChangeKind | None:
    """What happened between two snapshots of the same container (None: nothing)."""
    if old == new:
        return None
    # The running-like statuses have the same names as their Docker states.
    if new.status == "running" and (old.status not in ACTIVE or old.started_at != new.started_at):
        return "started"
    if old.status in ACTIVE and new.status not in ACTIVE:
        return "stopped"
    return "updated"


class LiveCache:
    """Managed containers per context, kept current by the live state's event watchers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._entries: dict[str, dict[str, _Entry]] = {}
        self._loaded: set[str] = set()  # listed at least once: later listings are diffed
        self._warm: set[str] = set()  # listed and connected now: `list` may answer from here
        self._removed: dict[tuple[str, str, str | None], float] = {}
        self._revision = 0
        self._idle: dict[tuple[str, str], dict[str, str | None]] = {}  # overlay, running only

    @property
    def revision(self) -> int:
        with self._lock:
            return self._revision

    # ------------------------------------------------------------------ feeding

    def load(
        self, context: str, infos: Iterable[ContainerInfo], keep: KeepPolicy
    ) -> list[ContainerChanged]:
        """A full listing: silent the first time (clients `list`), else the diff to push."""
        fresh = {i.id: _Entry(i, to_summary(i, keep)) for i in infos}
        with self._lock:
            self._warm.add(context)
            if context not in self._loaded:
                self._loaded.add(context)
                self._entries[context] = fresh
                return []
            old = self._entries.setdefault(context, {})
            changes = [self._drop(context, cid) for cid in list(old) if cid not in fresh]
            for entry in fresh.values():
                changes.append(self._put(context, entry))
            return [c for c in changes if c is not None]

    def apply(
        self, context: str, container_id: str, info: ContainerInfo | None, keep: KeepPolicy
    ) -> ContainerChanged | None:
        """One container re-inspected (None: it no longer exists)."""
        with self._lock:
            if info is None or not info.managed:
                return self._drop(context, container_id)
            return self._put(context, _Entry(info, to_summary(info, keep)))

    def recheck_keep(self, keep: KeepPolicy) -> list[ContainerChanged]:
        """`keep` lives partly in the user config, which Docker events know nothing about."""
        with self._lock:
            changes = [
                self._put(ctx, _Entry(e.info, e.summary.model_copy(update={"keep": want})))
                for ctx, entries in self._entries.items()
                for e in list(entries.values())
                if (want := keep.protects(e.info)) != e.summary.keep
            ]
        return [c for c in changes if c is not None]

    def set_idle(
        self, context: str, container_id: str, fields: dict[str, str | None] | None
    ) -> ContainerChanged | None:
        """What the container's idle check reported (`idleStop`, `idleSince`,
        `autoStopAt`), kept over later inspects while it runs; an `updated` if it shows."""
        with self._lock:
            entry = self._entries.get(context, {}).get(container_id)
            if entry is None:
                return None
            if fields and entry.info.running:
                self._idle[(context, container_id)] = fields
            else:
                self._idle.pop((context, container_id), None)
            return self._put(context, entry)

    def info(self, context: str, container_id: str) -> ContainerInfo | None:
        """The cached inspect of a container (None: not cached)."""
        with self._lock:
            entry = self._entries.get(context, {}).get(container_id)
            return entry.info if entry is not None else None

    def running(self) -> list[tuple[str, str]]:
        """(context, id) of every cached running container."""
        with self._lock:
            return [
                (ctx, cid)
                for ctx, entries in self._entries.items()
                for cid, e in entries.items()
                if e.info.running
            ]

    def mark_down(self, context: str) -> None:
        """The engine went away: `list` stops answering for it until the next listing."""
        with self._lock:
            self._warm.discard(context)

    # ------------------------------------------------------------------ reading

    def is_warm(self, context: str) -> bool:
        with self._lock:
            return context in self._warm

    def states(self, context: str) -> dict[str, str]:
        """id → Docker state as cached: what the backstop compares a cheap listing with."""
        with self._lock:
            return {cid: e.info.state for cid, e in self._entries.get(context, {}).items()}

    def list(self, contexts: list[str], keep: KeepPolicy) -> ListResult | None:
        """The `containai/list` answer with the current revision; None when not warm."""
        with self._lock:
            if any(c not in self._warm for c in contexts):
                return None
            entries = [e for c in contexts for e in self._entries.get(c, {}).values()]
            revision = self._revision
        containers = [
            e.summary
            if e.summary.keep == (want := keep.protects(e.info))
            else e.summary.model_copy(update={"keep": want})
            for e in entries
        ]
        containers.sort(key=lambda c: (c.context, c.name))
        return ListResult(revision=revision, containers=containers)

    # ------------------------------------------------------------------ internals (locked)

    def _put(self, context: str, entry: _Entry) -> ContainerChanged | None:
        key = (context, entry.info.id)
        if not entry.info.running:
            self._idle.pop(key, None)
        overlay = self._idle.get(key) or dict.fromkeys(_IDLE_FIELDS)
        entry = _Entry(entry.info, entry.summary.model_copy(update=overlay))
        entries = self._entries.setdefault(context, {})
        old = entries.get(entry.info.id)
        entries[entry.info.id] = entry
        if old is None:
            kind: ChangeKind | None = "recreated" if self._replaces(context, entry) else "created"
        else:
            kind = change_kind(old.summary, entry.summary)
        return None if kind is None else self._change(kind, entry.summary)

    def _drop(self, context: str, container_id: str) -> ContainerChanged | None:
        self._idle.pop((context, container_id), None)
        old = self._entries.get(context, {}).pop(container_id, None)
        if old is None:
            return None
        now = self._clock()
        self._removed = {k: t for k, t in self._removed.items() if now - t < RECREATE_WINDOW_S}
        self._removed[(context, old.info.name, old.info.workspace)] = now
        return self._change("removed", old.summary.model_copy(update={"status": "removed"}))

    def _replaces(self, context: str, entry: _Entry) -> bool:
        """A new id with the name and workspace of a container removed moments ago."""
        key = (context, entry.info.name, entry.info.workspace)
        removed_at = self._removed.pop(key, None)
        return removed_at is not None and self._clock() - removed_at < RECREATE_WINDOW_S

    def _change(self, kind: ChangeKind, summary: ContainerSummary) -> ContainerChanged:
        self._revision += 1
        return ContainerChanged(revision=self._revision, kind=kind, container=summary)

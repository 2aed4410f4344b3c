"""`status`: the required fields from one inspect, the best-effort ones under one deadline.

The original runs its best-effort parts one after another, each with its own 5 s timeout
(worst case ≈ 15 s). Here sessions and resources run in daemon threads under ONE
shared deadline: a part still running when it expires is left behind (its exec is bounded
by its own socket timeout), named in `partial`, and the required fields are returned
anyway. The session probe starts once the CPU sample is taken (bounded wait), because an
exec's CPU counts as the container's; it reads the idle check's state in the same exec.
Uptime needs no I/O (the inspect has `StartedAt`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from containai_rpc.core.ages import format_uptime, parse_docker_time
from containai_rpc.core.clock import Clock, system_clock
from containai_rpc.core.idle import STATE_FILE, IdleView, parse_state
from containai_rpc.core.units import bytes_size
from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.engine.stats import ResourceMonitor, ResourceUsage
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import (
    Resources,
    Sessions,
    StatusParams,
    StatusResult,
    VolumeMismatch,
)
from containai_rpc.service.inventory import required_status, target
from containai_rpc.service.sessions import SessionCounts, probe_sessions
from containai_rpc.service.summary import KeepPolicy
from containai_rpc.service.templates import with_outdated
from containai_rpc.workspace.userconfig import UserConfig

log = logging.getLogger(__name__)

DEADLINE_S = 5.0
SAMPLE_WAIT_S = 0.5
"""How long the session probe waits for the CPU sample (~0.1 ms warm, 100-200 ms cold)."""


def uptime(started_at: str | None, now: datetime) -> str | None:
    """The original's uptime; None when the start time is unknown."""
    try:
        started = parse_docker_time(started_at or "")
    except ValueError:
        return None
    return format_uptime((now - started).total_seconds()) if started else None


def to_resources(usage: ResourceUsage) -> Resources:
    """Wire figures plus the line the CLI prints: `1.2GiB / 4GiB (30%)`."""
    used, limit = usage.memory_bytes, usage.memory_limit_bytes
    percent = used / limit * 100 if limit else None
    text = f"{bytes_size(used)} / {bytes_size(limit)}" if limit else None
    if text and percent is not None:
        text += f" ({round(percent):.0f}%)"
    return Resources(
        memory_bytes=used,
        memory_limit_bytes=limit,
        memory_percent=round(percent, 2) if percent is not None else None,
        cpu_percent=round(usage.cpu_percent, 2),
        memory_text=text,
    )


def volume_mismatch(info: ContainerInfo, config: UserConfig) -> VolumeMismatch | None:
    """The container mounts another data volume than a `run` of its workspace resolves
    (which it would then use anyway, with a warning)."""
    if not info.workspace:
        return None
    try:
        requested, source = config.data_volume(info.workspace)
    except DomainError:  # an invalid configured name: `run` says so
        return None
    mounted = info.mounted_volume()
    if mounted == requested:
        return None
    return VolumeMismatch(mounted=mounted, requested=requested, source=source)


def run_parts(
    parts: dict[str, Callable[[], Any]], deadline_s: float
) -> tuple[dict[str, Any], list[str]]:
    """Run every part concurrently; (results of those done in time, names of the others).

    A part that raises counts as done with None (unknown), never as a failed request.
    Daemon threads, so a part stuck past the deadline cannot hold up the process exit.
    """
    results: dict[str, Any] = {}

    def attempt(name: str, fn: Callable[[], Any]) -> None:
        try:
            results[name] = fn()
        except Exception:  # best effort: any failure means "unknown"
            log.warning("status part %s failed", name, exc_info=True)
            results[name] = None

    threads = [
        threading.Thread(target=attempt, args=item, name=f"status-{item[0]}", daemon=True)
        for item in parts.items()
    ]
    deadline = time.monotonic() + deadline_s
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    done = dict(results)  # a late finisher must not change the answer being built
    return done, [name for name in parts if name not in done]


def _sample_gate(monitor: ResourceMonitor, engine: Engine, container_id: str) -> threading.Event:
    """Set once the CPU sample is taken, or at once when there is no measuring interval
    (a remote engine with a recent sample): the session probe may then run alongside."""
    gate = threading.Event()
    if monitor.reads_once(engine, container_id):
        gate.set()
    return gate


def status(
    engines: EngineSet,
    p: StatusParams,
    monitor: ResourceMonitor,
    config: UserConfig,
    *,
    clock: Clock = system_clock,
) -> StatusResult:
    """Required fields always; uptime, sessions and resources for a running container."""
    info = target(engines, p, config)
    result = required_status(info, KeepPolicy.of(config))
    mismatch = volume_mismatch(info, config)
    if mismatch is not None:
        result = result.model_copy(update={"volume_mismatch": mismatch})
    engine = engines.get(info.context)
    result = with_outdated(engine, info, result)
    if not info.running:
        return result
    sampled = _sample_gate(monitor, engine, info.id)

    def resources() -> ResourceUsage | None:
        try:
            return monitor.usage(engine, info.id, timeout_s=DEADLINE_S)
        finally:
            sampled.set()

    def sessions() -> tuple[SessionCounts | None, IdleView | None]:
        """The session counts and the idle state, from one exec."""
        # The probe's own CPU is charged to the container: keep it out of the sample.
        sampled.wait(SAMPLE_WAIT_S)
        try:
            counts, state = probe_sessions(engine, info.id, timeout_s=DEADLINE_S, read=STATE_FILE)
        finally:
            monitor.note(engine, info.id)
        return counts, parse_state(state)

    done, cut = run_parts({"sessions": sessions, "resources": resources}, DEADLINE_S)
    done["sessions"], done["idle"] = done.get("sessions") or (None, None)
    if "sessions" in cut:
        cut.append("idle")
    return result.model_copy(update=best_effort(done, cut, info, clock))


def best_effort(
    done: dict[str, Any], cut: list[str], info: ContainerInfo, clock: Clock
) -> dict[str, Any]:
    """The running container's fields from the parts done in time."""
    counts: SessionCounts | None = done.get("sessions")
    usage: ResourceUsage | None = done.get("resources")
    view: IdleView | None = done.get("idle")
    return {
        **(view.wire() if view is not None else {}),
        "uptime": uptime(info.started_at, clock()),
        "sessions": Sessions(
            ssh_connections=counts.ssh_connections, active_terminals=counts.active_terminals
        )
        if counts
        else None,
        "sessions_known": counts is not None,
        "resources": to_resources(usage) if usage else None,
        "partial": cut or None,
    }

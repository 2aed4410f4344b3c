"""Idle auto-stop, host side: which period a workspace gets, handing it to the container's
idle check, reading that check's state back, and `postponeIdleStop`.

The container decides and stops by itself (core/idle.py says why); everything here is
best effort around it: a container whose image has no idle check simply never stops.
"""

from __future__ import annotations

import logging
import shlex
import time

from containai_rpc.core.ages import parse_docker_time
from containai_rpc.core.idle import (
    CONF_FILE,
    MARKER_FILE,
    STAMP_FILE,
    STATE_FILE,
    IdleView,
    container_settings,
    format_period,
    parse_period,
    parse_state,
    rfc3339,
    stopped_by_idle,
)
from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.idle import PostponeIdleStopResult
from containai_rpc.protocol.models import RunParams, TargetParams
from containai_rpc.service.inventory import target
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.state import WorkspaceState
from containai_rpc.workspace.userconfig import UserConfig

log = logging.getLogger(__name__)

EXEC_TIMEOUT_S = 5.0


def idle_period(p: RunParams, state: WorkspaceState, settings: Settings) -> int:
    """Seconds (0: off): the request's, else the workspace's recorded one, else the user's
    `[lifecycle] idle_stop`. A damaged recorded value counts as unset (the request's was
    validated, the config's is checked where it is read)."""
    if p.idle_stop:
        try:
            return parse_period(p.idle_stop)
        except ValueError:
            raise DomainError(
                "invalidParams",
                f"idleStop {p.idle_stop!r} is out of range: off, or from 5s to 365d",
                hint='Give a period like "2h", "30m" or "20s", or "off".',
            ) from None
    for value in (state.idle_stop, settings.idle_stop):
        if value:
            try:
                return parse_period(value)
            except ValueError:
                log.warning("ignoring idle_stop %r: not a period", value)
    return 0


def idle_environment(period_s: int, settings: Settings) -> dict[str, str]:
    """The container environment that configures its idle check from the first boot."""
    return container_settings(period_s, settings.idle_check_s)


def touch(engine: Engine, container_id: str, period_s: int | None, check_s: int) -> bool:
    """Count now as activity (the stamp), and when `period_s` is given make it the
    container's policy (the file its check prefers over the creation environment).
    False when the container would not take it (no shell, not running)."""
    script = f"mkdir -p {STAMP_FILE.rsplit('/', 1)[0]} && touch {STAMP_FILE}"
    if period_s is not None:
        lines = "".join(f"{k}={v}\n" for k, v in container_settings(period_s, check_s).items())
        conf_dir = CONF_FILE.rsplit("/", 1)[0]
        script += (
            f" && mkdir -p {conf_dir} && printf %s {shlex.quote(lines)} > {CONF_FILE}.tmp"
            f" && mv -f {CONF_FILE}.tmp {CONF_FILE}"
        )
    try:
        result = engine.exec(container_id, ["sh", "-c", script], timeout_s=EXEC_TIMEOUT_S)
    except DomainError as exc:
        log.warning("idle stamp not written in %s: %s", container_id[:12], exc.message)
        return False
    return result.exit_code == 0


def read_idle(engine: Engine, container_id: str) -> IdleView | None:
    """The container's idle check's latest state; None when it has none (yet).

    Read with the archive API, which runs nothing in the container: an exec that races a
    `docker pause` can leave the engine's lock on that container held until it is thawed.
    """
    data = engine.read_file(container_id, STATE_FILE)
    return parse_state(data.decode("ascii", "replace")) if data is not None else None


def was_idle_stop(engine: Engine, info: ContainerInfo) -> bool:
    """A stopped container's last exit was its idle check's poweroff."""
    if info.running:
        return False
    marker = engine.read_file(info.id, MARKER_FILE)
    if marker is None:
        return False
    try:
        started = parse_docker_time(info.started_at or "")
    except ValueError:
        started = None
    return stopped_by_idle(marker.decode("ascii", "replace"), started)


def postpone(engines: EngineSet, p: TargetParams, config: UserConfig) -> PostponeIdleStopResult:
    """`containai/postponeIdleStop`: touch the stamp, so the stop is one period away."""
    info = target(engines, p, config)
    if not info.running:
        raise DomainError(
            "unexpectedState",
            f"Container {info.name} is not running: there is no idle stop to postpone",
            hint="Start it with run.",
            container=info.name,
        )
    engine = engines.get(info.context)
    if not touch(engine, info.id, None, 0):
        raise DomainError(
            "unexpectedState",
            f"Could not record activity in container {info.name}",
            container=info.name,
        )
    view = read_idle(engine, info.id)
    on = view is not None and view.enabled
    return PostponeIdleStopResult(
        container_name=info.name,
        context=info.context,
        idle_stop=format_period(view.period_s) if view is not None else None,
        # The stamp is now: the check (same kernel clock) will stop it one period later.
        auto_stop_at=rfc3339(int(time.time()) + view.period_s) if on and view else None,
    )

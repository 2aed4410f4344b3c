"""`stop`'s decisions, pure: options, the session gate, stop or remove, nothing found.

The session gate: `force` or a container that is not running needs no probe; otherwise
sessions that cannot be counted ("unknown") or none ("no") let the stop go ahead, and
active ones ("yes": an SSH connection, or more than one terminal) need a confirmation —
which a client that cannot confirm turns into `confirmationRequired` (see `Hooks.ask`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from containai_rpc.core.states import STOPPED
from containai_rpc.engine import ContainerInfo
from containai_rpc.errors import DomainError, conflicting
from containai_rpc.protocol.stop import StopOutcome, StopParams
from containai_rpc.service.sessions import SessionCounts

Sessions = Literal["yes", "no", "unknown"]
StopStep = Literal["remove", "stop", "alreadyStopped"]


def check_options(p: StopParams) -> None:
    if p.all and p.container:
        raise conflicting("container", "all")
    if p.all and p.workspace:
        raise conflicting("workspace", "all")
    if p.container and p.workspace:
        raise conflicting("container", "workspace")
    if p.all and p.export_to:
        raise conflicting("exportTo", "all")


def probe_needed(p: StopParams, info: ContainerInfo) -> bool:
    """Sessions are counted only for a running container and without `force`."""
    return not p.force and info.running


@dataclass(frozen=True)
class SessionGate:
    """What the session count means for this stop: the wire's `sessions`, and the
    question to ask first (None: go ahead)."""

    sessions: Sessions | None
    question: str | None = None
    verb: str = "Stop"


def session_gate(p: StopParams, info: ContainerInfo, counts: SessionCounts | None) -> SessionGate:
    """The gate after a probe (`counts` None: the probe could not tell)."""
    if counts is None:
        return SessionGate("unknown")
    if not counts.active:
        return SessionGate("no")
    verb = "Remove" if p.remove else "Stop"
    question = f"Container '{info.name}' may have active sessions. {verb} anyway?"
    return SessionGate("yes", question, verb)


def stop_step(info: ContainerInfo, remove: bool) -> StopStep:
    """Remove (any state, forced, never a volume), or stop unless already stopped."""
    if remove:
        return "remove"
    return "alreadyStopped" if info.state in STOPPED else "stop"


def nothing_found(
    workspace: str, state_name: str | None, context: str
) -> StopOutcome | DomainError:
    """No container for the workspace: a state entry naming one that is gone is an
    answer (`notFound`); no trace at all is an error."""
    if state_name:
        return StopOutcome(
            container_name=state_name,
            context=context,
            action="notFound",
            message=f"Container from workspace state not found: {state_name}",
        )
    return DomainError(
        "containerNotFound",
        f"No container found for workspace: {workspace}",
        hint="Name the container (container) to pick one; list shows them.",
        workspace=workspace,
    )

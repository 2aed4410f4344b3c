"""`stop`: one container (by name or workspace) or all; optionally remove; never a volume."""

from __future__ import annotations

import os

from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import StopAction, StopOutcome, StopParams, StopResult
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import for_target, locate_by_name, lock_key
from containai_rpc.service.sessions import detect_sessions
from containai_rpc.ssh.access import remove_access
from containai_rpc.workspace.locks import locked
from containai_rpc.workspace.paths import normalize_path
from containai_rpc.workspace.state import read_workspace_state, set_keep


def _conflicts(p: StopParams) -> None:
    if p.all and p.container:
        raise DomainError("conflictingOptions", "--container and --all are mutually exclusive")
    if p.all and p.workspace:
        raise DomainError("conflictingOptions", "--workspace and --all are mutually exclusive")
    if p.container and p.workspace:
        raise DomainError(
            "conflictingOptions", "--container and --workspace are mutually exclusive"
        )


def _apply(engine: Engine, info: ContainerInfo, p: StopParams, sessions: str | None) -> StopOutcome:
    """Stop or remove one managed container. Removal keeps every volume (`v=False`)."""
    if p.remove:
        engine.remove(info.id, force=True)
        remove_access(info.name, info.ssh_port)
        set_keep(info.name, None)  # a later container of that name starts unprotected
        action = "removed"
    elif info.state in ("exited", "created", "dead"):
        action = "alreadyStopped"
    else:
        engine.stop(info.id)
        action = "stopped"
    return StopOutcome(
        container_name=info.name, context=engine.context, action=action, sessions=sessions
    )


def _confirm_sessions(
    engine: Engine, info: ContainerInfo, p: StopParams, hooks: Hooks
) -> tuple[bool, str | None]:
    """(go ahead, sessions) — asks only when sessions are known to be active."""
    if p.force or not info.running:
        return True, None
    counts = detect_sessions(engine, info.id)
    if counts is None:
        return True, "unknown"
    if not counts.active:
        return True, "no"
    verb = "Remove" if p.remove else "Stop"
    ok = hooks.ask(f"Container '{info.name}' may have active sessions. {verb} anyway?", verb)
    return ok, "yes"


def _single(engine: Engine, name: str, action: StopAction, **extra: str | None) -> StopResult:
    """The answer about one container that was not (or no longer) there to act on."""
    outcome = StopOutcome(container_name=name, context=engine.context, action=action, **extra)
    return StopResult(results=[outcome])


def stop(engines: EngineSet, p: StopParams, hooks: Hooks, *, cwd: str | None = None) -> StopResult:
    _conflicts(p)
    if p.all:
        return _stop_all(engines, p, hooks)
    if p.container:
        engine, found = locate_by_name(engines, p.container, p.context)
        info: ContainerInfo | None = found
    else:
        engine = engines.get(p.context)
        workspace = normalize_path(p.workspace or cwd or os.getcwd())
        info = for_target(engine, workspace)
        if info is None:
            named = read_workspace_state(workspace).container_name
            if named:
                message = f"Container from workspace state not found: {named}"
                return _single(engine, named, "notFound", message=message)
            raise DomainError(
                "containerNotFound",
                f"No container found for workspace: {workspace}",
                hint="Use --container <name> to pick one (cai list shows them).",
            )
    assert info is not None
    go, sessions = _confirm_sessions(engine, info, p, hooks)
    if not go:
        return _single(engine, info.name, "declined", sessions=sessions)
    # Serialised with `run` on the same workspace: a concurrent fresh must not leave us
    # holding the id of a container it has just replaced.
    with locked(lock_key(info)):
        current = engine.inspect(info.name)
        if current is None or not current.managed:
            message = f"Container {info.name} went away meanwhile"
            return _single(engine, info.name, "notFound", message=message)
        return StopResult(results=[_apply(engine, current, p, sessions)])


def _stop_all(engines: EngineSet, p: StopParams, hooks: Hooks) -> StopResult:
    """Every managed container in every context we manage; one failure does not stop the rest.

    The contexts are listed concurrently (bounded probes, like `list`), then stopped in turn.
    """
    contexts = [p.context] if p.context else engines.managed_contexts()
    results: list[StopOutcome] = []
    for name, found in engines.each(contexts, lambda e: e.list_managed()):
        if isinstance(found, DomainError):
            results.append(
                StopOutcome(
                    container_name="*", context=name, action="failed", message=found.message
                )
            )
            continue
        engine = engines.get(name)
        for info in found:
            hooks.checkpoint()
            hooks.progress(f"{'Removing' if p.remove else 'Stopping'} {info.name}")
            try:
                results.append(_apply(engine, info, p, None))
            except DomainError as exc:
                results.append(
                    StopOutcome(
                        container_name=info.name, context=name, action="failed", message=exc.message
                    )
                )
    return StopResult(results=results)

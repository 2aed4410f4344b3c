"""`stop`: one container (by name or workspace) or all; optionally remove; never a volume.

The decisions are in `stop_decide`; this module finds the container, asks when sessions
are active, and acts under the workspace lock `run` takes too.
"""

from __future__ import annotations

from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.stop import StopAction, StopOutcome, StopParams, StopResult
from containai_rpc.service.backup import export_container
from containai_rpc.service.cleanup import forget_removed
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import Target, lock_key, named_container, workspace_target
from containai_rpc.service.sessions import detect_sessions
from containai_rpc.service.stop_decide import (
    SessionGate,
    Sessions,
    check_options,
    nothing_found,
    probe_needed,
    session_gate,
    stop_step,
)
from containai_rpc.workspace.locks import locked
from containai_rpc.workspace.userconfig import UserConfig

_DONE: dict[str, StopAction] = {"remove": "removed", "stop": "stopped"}


def stop(engines: EngineSet, p: StopParams, hooks: Hooks, *, cwd: str | None = None) -> StopResult:
    check_options(p)
    if p.all:
        return _stop_all(engines, p, hooks)
    if p.container:  # needs no workspace state
        target = Target(*named_container(engines, p.container, p.context))
    else:
        target = workspace_target(engines, UserConfig.load(), p.workspace, p.context, cwd)
    engine, info = target.engine, target.container
    if info is None:
        found = nothing_found(target.workspace or "", target.state_name, engine.context)
        if isinstance(found, DomainError):
            raise found
        return StopResult(results=[found])
    exported = _export_first(engine, info, p, hooks, cwd) if p.export_to else None
    gate = SessionGate(None)
    if probe_needed(p, info):
        gate = session_gate(p, info, detect_sessions(engine, info.id))
    if gate.question is not None and not hooks.ask(gate.question, gate.verb):
        return _single(engine, info.name, "declined", sessions=gate.sessions)
    # Serialised with `run` on the same workspace: a concurrent fresh must not leave us
    # holding the id of a container it has just replaced.
    with locked(lock_key(info)):
        current = engine.inspect(info.name)
        if current is None or not current.is_ours:
            message = f"Container {info.name} went away meanwhile"
            return _single(engine, info.name, "notFound", message=message)
        outcome = _apply(engine, current, p.remove, gate.sessions)
        return StopResult(results=[outcome.model_copy(update=exported or {})])


def _export_first(
    engine: Engine, info: ContainerInfo, p: StopParams, hooks: Hooks, cwd: str | None
) -> dict[str, str]:
    """Export the data volume before stopping; a failure stops nothing unless `force`."""
    assert p.export_to is not None
    try:
        done = export_container(engine, info, p.export_to, hooks, cwd=cwd)
    except DomainError as exc:
        if not p.force:
            raise DomainError(
                exc.reason,
                f"Export failed, so {info.name} was not stopped: {exc.message}",
                hint="Repeat with force to stop anyway.",
            ) from exc
        return {"message": f"Export failed, stopped anyway: {exc.message}"}
    return {"export_path": done.path}


def _apply(
    engine: Engine, info: ContainerInfo, remove: bool, sessions: Sessions | None
) -> StopOutcome:
    """Stop or remove one managed container. Removal keeps every volume."""
    step = stop_step(info, remove)
    if step == "remove":
        engine.remove(info.id, force=True)
        forget_removed(info)
    elif step == "stop":
        engine.stop(info.id)
    action = _DONE.get(step, "alreadyStopped")
    return StopOutcome(
        container_name=info.name, context=engine.context, action=action, sessions=sessions
    )


def _single(engine: Engine, name: str, action: StopAction, **extra: str | None) -> StopResult:
    """The answer about one container that was not (or no longer) there to act on."""
    outcome = StopOutcome(container_name=name, context=engine.context, action=action, **extra)
    return StopResult(results=[outcome])


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
            why = info.foreign_because()
            if why is not None:  # marked managed, but not made by us: left alone
                results.append(
                    StopOutcome(
                        container_name=info.name,
                        context=name,
                        action="notManaged",
                        message=f"Container {info.name} {why}: left alone",
                    )
                )
                continue
            hooks.checkpoint()
            hooks.progress(f"{'Removing' if p.remove else 'Stopping'} {info.name}")
            try:
                results.append(_apply(engine, info, p.remove, None))
            except DomainError as exc:
                results.append(
                    StopOutcome(
                        container_name=info.name, context=name, action="failed", message=exc.message
                    )
                )
    return StopResult(results=results)

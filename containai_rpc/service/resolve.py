"""Finding 'the' container: for a workspace, by name, across contexts (design.md §1, §3)."""

from __future__ import annotations

from dataclasses import dataclass

from containai_rpc.core.naming import (
    MAX_COLLISION_SUFFIX,
    collision_candidate,
    legacy_container_name,
    validate_container_name,
    validate_volume_name,
)
from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.workspace.paths import workspace_container_name
from containai_rpc.workspace.state import read_workspace_state


@dataclass(frozen=True)
class Found:
    """A workspace's container (or None) and the name a new one would get."""

    container: ContainerInfo | None
    name: str


def _owned_by(info: ContainerInfo | None, workspace: str) -> bool:
    return info is not None and info.managed and info.workspace == workspace


def lock_key(info: ContainerInfo) -> str:
    """What serialises operations on a container: its workspace, like `run` locks."""
    return info.workspace or f"name:{info.name}"


def require_managed(info: ContainerInfo) -> ContainerInfo:
    if not info.managed:
        raise DomainError(
            "notManaged",
            f"Container {info.name} exists but is not managed by ContainAI",
            hint="Remove the conflicting container or use a different name.",
            container=info.name,
        )
    return info


def by_label(engine: Engine, workspace: str) -> ContainerInfo | None:
    """The one managed container labelled for this workspace; several is an error."""
    found = [c for c in map(engine.inspect, engine.ids_for_workspace(workspace)) if c]
    found = [c for c in found if c.managed]
    if len(found) > 1:
        names = " ".join(sorted(c.name for c in found))
        raise DomainError(
            "multipleContainers",
            f"Multiple containers found for workspace: {workspace} ({names})",
            hint="Use --container to specify which one.",
        )
    return found[0] if found else None


def find_for_workspace(engine: Engine, workspace: str) -> Found:
    """state → label → generated name only if its label matches → legacy name likewise.

    Unlike the original (spec §2.3 step 3), a same-named container of another workspace
    is never used: the new container gets a collision suffix instead.
    """
    state = read_workspace_state(workspace)
    if state.container_name:
        info = engine.inspect(state.container_name)
        if _owned_by(info, workspace):
            return Found(info, state.container_name)
    labelled = by_label(engine, workspace)
    if labelled is not None:
        return Found(labelled, labelled.name)
    base = workspace_container_name(workspace)
    legacy = engine.inspect(legacy_container_name(workspace))
    if _owned_by(legacy, workspace):
        assert legacy is not None
        return Found(legacy, legacy.name)
    return Found(None, free_name(engine, base, workspace))


def free_name(engine: Engine, base: str, workspace: str) -> str:
    """`base`, or `base-2`…`base-99` when another workspace (or a stranger) holds it."""
    candidate = base
    for n in range(2, MAX_COLLISION_SUFFIX + 2):
        info = engine.inspect(candidate)
        if info is None or _owned_by(info, workspace):
            return candidate
        if n > MAX_COLLISION_SUFFIX:
            break
        candidate = collision_candidate(base, n)
    raise DomainError("nameConflict", f"Too many container name collisions for {base} (max 99)")


def left_alone(engine: Engine, workspace: str, chosen: str) -> list[str]:
    """What creating `chosen` met but must never touch, in words (design.md, Docker-side
    conventions): holders of the names tried before it, and containers labelled for this
    workspace without `containai.managed=true`."""
    base = workspace_container_name(workspace)
    tried = [base, *(collision_candidate(base, n) for n in range(2, MAX_COLLISION_SUFFIX + 1))]
    notes: dict[str, str] = {}
    for name in tried[: tried.index(chosen)] if chosen in tried else []:
        info = engine.inspect(name)
        if info is not None:
            owner = (
                f"belongs to workspace {info.workspace}"
                if info.managed
                else "is not managed by ContainAI"
            )
            notes[name] = f"Container name '{name}' is taken by a container that {owner}: "
            notes[name] += f"left alone, this workspace uses '{chosen}'"
    for info in filter(None, map(engine.inspect, engine.ids_for_workspace(workspace))):
        if not info.managed and info.name not in notes:
            notes[info.name] = (
                f"Container '{info.name}' is labelled for this workspace but is not managed "
                "by ContainAI: left alone"
            )
    return list(notes.values())


def check_names(p: object) -> None:
    """Refuse bad names before any Docker call (so a dead engine cannot mask them)."""
    container = getattr(p, "container", None)
    if container is not None:
        validate_container_name(container)
    volume = getattr(p, "data_volume", None)
    if volume is not None:
        validate_volume_name(volume)


def locate_by_name(
    engines: EngineSet, name: str, context: str | None
) -> tuple[Engine, ContainerInfo]:
    """A container named explicitly, in `context`, else in whichever managed context has it.

    Like the original (spec §2.2) the name is looked up in every context we manage; found
    in several, it is ambiguous rather than a guess.
    """
    validate_container_name(name)
    if context:
        engine = engines.get(context)
        return engine, require_managed(engine.require(name))
    found = engines.each(engines.managed_contexts(), lambda e: (e, e.inspect(name)))
    hits = [r for _, r in found if not isinstance(r, DomainError) and r[1] is not None]
    if len(hits) > 1:
        where = ", ".join(sorted(info.context for _, info in hits if info))
        raise DomainError(
            "ambiguousContainer",
            f"Container '{name}' exists in multiple contexts: {where}",
            hint="Pass --context to pick one, or remove or rename the duplicate.",
        )
    if not hits:
        for ctx, r in found:  # the selected engine being down is the real answer
            if isinstance(r, DomainError) and ctx == engines.default_context():
                raise r
        raise DomainError("containerNotFound", f"Container not found: {name}", container=name)
    engine, info = hits[0]
    assert info is not None
    return engine, require_managed(info)


def for_target(engine: Engine, workspace: str) -> ContainerInfo | None:
    """The workspace's existing container for stop/status: state, then label, then name.

    A state entry naming a container of another workspace is an error, not a silent
    switch (spec §7.2).
    """
    state = read_workspace_state(workspace)
    if state.container_name:
        info = engine.inspect(state.container_name)
        if info is not None:
            require_managed(info)
            if info.workspace and info.workspace != workspace:
                raise DomainError(
                    "workspaceMismatch",
                    f"Container '{info.name}' belongs to workspace '{info.workspace}', "
                    f"not {workspace}.",
                    hint=f"Use --container {info.name}, or fix the workspace state.",
                )
            return info
    return find_for_workspace(engine, workspace).container

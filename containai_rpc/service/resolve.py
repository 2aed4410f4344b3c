"""Which container a request is about: one function per question.

- `workspace_container`: which container belongs to this workspace (state, then the
  `containai.workspace` label, then the legacy name, each only if it is really this
  workspace's) — the facts, judged by `own_container` (run) or `target_container`
  (stop, status, keep);
- `named_container` (`find_named`): which managed container has this name, in the
  requested context or else in every context we manage;
- `locate_workspace`: in which context the workspace's container is (the requested one,
  else every context we manage), and `workspace_container`'s facts there;
- `name_to_create`: which name a new container of this workspace gets (the generated
  name, or a collision suffix when another workspace or a stranger holds it), and what
  it had to leave alone on the way;
- `find_target`: the container of a stop/status/keep request, by name or by workspace.

A container that is not ours (`ContainerInfo.is_ours`: `containai.managed=true` and
every required label) is never used, and a same-named container of another workspace is
never attached to: the new container gets a suffix instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from containai_rpc.core.naming import (
    MAX_COLLISION_SUFFIX,
    collision_candidate,
    legacy_container_name,
    validate_container_name,
    validate_volume_name,
)
from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.workspace.paths import (
    current_dir,
    normalize_path,
    workspace_container_name,
)
from containai_rpc.workspace.state import WorkspaceState
from containai_rpc.workspace.userconfig import UserConfig


def owned_by(info: ContainerInfo | None, workspace: str) -> bool:
    return info is not None and info.is_ours and info.workspace == workspace


def lock_key(info: ContainerInfo) -> str:
    """What serialises operations on a container: its workspace, like `run` locks."""
    return info.workspace or f"name:{info.name}"


def require_managed(info: ContainerInfo) -> ContainerInfo:
    """`info`, if it is ours; a foreign container (unmanaged, or managed but missing a
    required label) is `notManaged`, with the reason in the message."""
    why = info.foreign_because()
    if why is not None:
        raise DomainError(
            "notManaged",
            f"Container {info.name} exists but {why}; ContainAI leaves it alone",
            hint="Remove the conflicting container or use a different name.",
            container=info.name,
        )
    return info


def check_names(p: object) -> None:
    """Refuse bad names before any Docker call (so a dead engine cannot mask them)."""
    container = getattr(p, "container", None)
    if container is not None:
        validate_container_name(container)
    volume = getattr(p, "data_volume", None)
    if volume is not None:
        validate_volume_name(volume)


# --------------------------------------------------------------------------- by workspace


@dataclass(frozen=True)
class WorkspaceMatch:
    """What the engine holds for one workspace, looked up in order until a hit.

    `container` is the workspace's own container (managed and labelled for it); `stray`
    is what the workspace state names when that is not this workspace's container;
    `several` holds the managed containers labelled for it when there is more than one;
    `labelled` everything (managed or not) carrying its label, once the lookup got there.
    """

    workspace: str
    state_name: str | None
    container: ContainerInfo | None = None
    stray: ContainerInfo | None = None
    several: tuple[ContainerInfo, ...] = ()
    labelled: tuple[ContainerInfo, ...] = ()


def workspace_container(engine: Engine, workspace: str, state: WorkspaceState) -> WorkspaceMatch:
    """state → label → legacy name, each only if its workspace label matches."""
    stray = None
    if state.container_name:
        info = engine.inspect(state.container_name)
        if owned_by(info, workspace):
            return WorkspaceMatch(workspace, state.container_name, container=info)
        stray = info
    labelled = tuple(c for c in map(engine.inspect, engine.ids_for_workspace(workspace)) if c)
    managed = tuple(c for c in labelled if c.is_ours)
    found = WorkspaceMatch(workspace, state.container_name, stray=stray, labelled=labelled)
    if len(managed) > 1:
        return replace(found, several=managed)
    if managed:
        return replace(found, container=managed[0])
    legacy = engine.inspect(legacy_container_name(workspace))
    return replace(found, container=legacy) if owned_by(legacy, workspace) else found


def own_container(match: WorkspaceMatch) -> ContainerInfo | None:
    """`run`'s reading: the workspace's own container; what the state names otherwise is
    ignored (a new container gets its own name)."""
    if match.several:
        names = " ".join(sorted(c.name for c in match.several))
        raise DomainError(
            "multipleContainers",
            f"Multiple containers found for workspace: {match.workspace} ({names})",
            hint="Name the container (container) to pick one.",
        )
    return match.container


def target_container(match: WorkspaceMatch) -> ContainerInfo | None:
    """stop/status/keep's reading: a state entry naming a container of another workspace
    (or a foreign one) is an error, not a silent switch."""
    stray = match.stray
    if stray is not None:
        require_managed(stray)  # ours, so it has a workspace label, and not this one
        raise DomainError(
            "workspaceMismatch",
            f"Container '{stray.name}' belongs to workspace '{stray.workspace}', "
            f"not {match.workspace}.",
            hint=f"Name it (container: {stray.name}), or fix the workspace state.",
            container=stray.name,
        )
    return own_container(match)


# --------------------------------------------------------------------------- new names


@dataclass(frozen=True)
class NewName:
    """The name a new container gets, and what creating it must leave alone (in words)."""

    name: str
    notes: tuple[str, ...] = ()


def name_to_create(engine: Engine, match: WorkspaceMatch) -> NewName:
    """The generated name, or `-2`…`-99` when another workspace (or a stranger) holds it."""
    base = workspace_container_name(match.workspace)
    tried = [base, *(collision_candidate(base, n) for n in range(2, MAX_COLLISION_SUFFIX + 1))]
    holders: list[ContainerInfo] = []
    for candidate in tried:
        info = engine.inspect(candidate)
        if info is None or owned_by(info, match.workspace):
            return NewName(candidate, tuple(left_alone(candidate, holders, match.labelled)))
        holders.append(info)
    raise DomainError("nameConflict", f"Too many container name collisions for {base} (max 99)")


def left_alone(
    chosen: str, holders: list[ContainerInfo], labelled: tuple[ContainerInfo, ...]
) -> list[str]:
    """Holders of the names tried before `chosen`, and containers labelled for this
    workspace that are not ours: never touched, and said so."""
    notes: dict[str, str] = {}
    for info in holders:
        owner = f"belongs to workspace {info.workspace}" if info.is_ours else _foreign(info)
        notes[info.name] = (
            f"Container name '{info.name}' is taken by a container that {owner}: "
            f"left alone, this workspace uses '{chosen}'"
        )
    for info in labelled:
        if not info.is_ours and info.name not in notes:
            notes[info.name] = (
                f"Container '{info.name}' is labelled for this workspace but "
                f"{_foreign(info)}: left alone"
            )
    return list(notes.values())


def _foreign(info: ContainerInfo) -> str:
    return info.foreign_because() or "is not managed by ContainAI"


# --------------------------------------------------------------------------- by name


def named_container(
    engines: EngineSet, name: str, context: str | None
) -> tuple[Engine, ContainerInfo]:
    """A container named explicitly, in `context`, else in whichever managed context has it.

    Like the original, the name is looked up in every context we manage; found in
    several, it is ambiguous rather than a guess.
    """
    found = find_named(engines, name, context)
    if found is None:
        raise DomainError("containerNotFound", f"Container not found: {name}", container=name)
    return found


def find_named(
    engines: EngineSet, name: str, context: str | None
) -> tuple[Engine, ContainerInfo] | None:
    """`named_container`, with None when no context has the name."""
    validate_container_name(name)
    if context:
        engine = engines.get(context)
        info = engine.inspect(name)
        return None if info is None else (engine, require_managed(info))
    found = engines.each(engines.managed_contexts(), lambda e: (e, e.inspect(name)))
    hits = [r for _, r in found if not isinstance(r, DomainError) and r[1] is not None]
    if len(hits) > 1:
        where = ", ".join(sorted(info.context for _, info in hits if info))
        raise DomainError(
            "ambiguousContainer",
            f"Container '{name}' exists in multiple contexts: {where}",
            hint="Name the context (context) to pick one, or remove or rename the duplicate.",
        )
    for engine, info in hits:
        if info is not None:
            return engine, require_managed(info)
    for ctx, r in found:  # the selected engine being down is the real answer
        if isinstance(r, DomainError) and ctx == engines.default_context():
            raise r
    return None


# --------------------------------------------------------------------------- across contexts


@dataclass(frozen=True)
class Located:
    """Where a workspace's container is: `engine` holds `match`.

    Found nowhere, `engine` is the one a new container goes to (the requested context,
    else the selected one) with what it holds for the workspace, and `stray` is where
    else the workspace state's name turned up (a container of another workspace).
    """

    engine: Engine
    match: WorkspaceMatch
    stray: tuple[Engine, WorkspaceMatch] | None = None


def _holds(match: WorkspaceMatch) -> bool:
    return match.container is not None or bool(match.several)


def locate_workspace(
    engines: EngineSet, workspace: str, state: WorkspaceState, context: str | None
) -> Located:
    """The workspace's container in the requested context, else in every context we
    manage (and the one the state recorded), like a name. The state's own entry wins;
    otherwise containers of the workspace in two contexts are ambiguous. An engine that
    does not answer is skipped, unless it is the selected one or the recorded one and
    nothing was found elsewhere."""
    home = context or engines.default_context()
    recorded = [state.context] if state.context and not context else []
    contexts = list(
        dict.fromkeys([*recorded, home, *([] if context else engines.managed_contexts())])
    )
    if contexts == [home]:
        engine = engines.get(home)
        return Located(engine, workspace_container(engine, workspace, state))
    results = engines.each(contexts, lambda e: (e, workspace_container(e, workspace, state)))
    answered = [(c, r) for c, r in results if not isinstance(r, DomainError)]
    hits = [r for _, r in answered if _holds(r[1])]
    named = [r for r in hits if r[1].container and r[1].container.name == state.container_name]
    chosen = named or hits
    if len(chosen) > 1:
        raise _ambiguous(workspace, [m for _, m in chosen], by_name=bool(named))
    if chosen:
        return Located(*chosen[0])
    for ctx, r in results:
        if isinstance(r, DomainError) and (
            ctx == home or (ctx in recorded and r.reason == "engineUnavailable")
        ):
            raise r
    mine = next(r for c, r in answered if c == home)
    stray = next((r for _, r in answered if r[1].stray is not None), None)
    return Located(*mine, stray=stray)


def _ambiguous(workspace: str, matches: list[WorkspaceMatch], *, by_name: bool) -> DomainError:
    where = sorted((c.context, c.name) for m in matches for c in (m.several or (m.container,)) if c)
    contexts = ", ".join(dict.fromkeys(ctx for ctx, _ in where))
    if by_name:
        message = f"Container '{where[0][1]}' exists in multiple contexts: {contexts}"
    else:
        names = ", ".join(f"{name} ({ctx})" for ctx, name in where)
        message = f"Containers of workspace {workspace} exist in multiple contexts: {names}"
    return DomainError(
        "ambiguousContainer",
        message,
        hint="Name the context (context) to pick one, or remove or rename the duplicate.",
        workspace=workspace,
    )


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Target:
    """The container a stop/status/keep request is about (None: none found)."""

    engine: Engine
    container: ContainerInfo | None
    workspace: str | None = None
    state_name: str | None = None


def find_target(
    engines: EngineSet,
    config: UserConfig,
    *,
    container: str | None,
    workspace: str | None,
    context: str | None,
    cwd: str | None = None,
) -> Target:
    """By name (every managed context), else the workspace's container: state → label."""
    if container:
        engine, info = named_container(engines, container, context)
        return Target(engine, info)
    return workspace_target(engines, config, workspace, context, cwd)


def workspace_target(
    engines: EngineSet,
    config: UserConfig,
    workspace: str | None,
    context: str | None,
    cwd: str | None = None,
) -> Target:
    """The container of the given (else the current) workspace, judged for stop/status,
    in the requested context, else in every context we manage."""
    path = normalize_path(workspace or cwd or current_dir())
    located = locate_workspace(engines, path, config.workspace_state(path), context)
    engine, match = located.engine, located.match
    if not _holds(match) and match.stray is None and located.stray is not None:
        engine, match = located.stray
    return Target(engine, target_container(match), path, match.state_name)

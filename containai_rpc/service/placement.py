"""Where a run may put a container: never a second one of the same workspace (or name) in
another context. A container's data volume lives on its engine and does not move, and two
containers of one workspace make every later command ambiguous."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from containai_rpc.engine import EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.service.resolve import find_named, locate_workspace, own_container
from containai_rpc.workspace.state import WorkspaceState

T = TypeVar("T")


def refuse_elsewhere(
    engines: EngineSet, workspace: str, state: WorkspaceState, context: str
) -> None:
    """A run that names a context where the workspace has no container, while it has one
    in another managed context, would make a second: refused (the workspace would be
    ambiguous, and its data volume stays on the other engine). Unreachable contexts
    elsewhere cannot be asked: the run goes ahead."""
    other = _asked(lambda: locate_workspace(engines, workspace, state, None))
    found = own_container(other.match) if other is not None else None
    if other is not None and found is not None and other.engine.context != context:
        what = f"Workspace {workspace} already has container {found.name}"
        raise _elsewhere(what, found.name, other.engine.context, context, workspace=workspace)


def refuse_name_elsewhere(engines: EngineSet, name: str, context: str) -> None:
    """The same for a `container` name that exists in another managed context."""
    found = _asked(lambda: find_named(engines, name, None))
    if found is not None and found[0].context != context:
        raise _elsewhere(f"Container {name} already exists", name, found[0].context, context)


def _asked(lookup: Callable[[], T]) -> T | None:
    """`lookup()`, or None when an engine it needs does not answer."""
    try:
        return lookup()
    except DomainError as exc:
        if exc.reason in ("engineUnavailable", "engineError"):
            return None
        raise


def _elsewhere(what: str, name: str, where: str, context: str, **details: str) -> DomainError:
    return DomainError(
        "contextMismatch",
        f"{what} on context '{where}'; context '{context}' was requested",
        hint=f"Run without a context to use it, or stop and remove it first to create one on "
        f"'{context}' (its data volume stays on '{where}').",
        **details,
        context=where,
        container=name,
    )

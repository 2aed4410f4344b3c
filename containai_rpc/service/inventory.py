"""`list` and the required part of `status`: what exists, across contexts."""

from __future__ import annotations

from containai_rpc.engine import ContainerInfo, EngineSet
from containai_rpc.errors import DomainError, conflicting
from containai_rpc.protocol.models import (
    ContainerSummary,
    ContextError,
    ListParams,
    ListResult,
    StatusParams,
    StatusResult,
)
from containai_rpc.service.resolve import find_target
from containai_rpc.service.summary import KeepPolicy, isolation_of, to_summary
from containai_rpc.workspace.userconfig import UserConfig


def list_containers(
    engines: EngineSet, p: ListParams, revision: int = 0, keep: KeepPolicy | None = None
) -> ListResult:
    """Every managed container of every managed context; a dead context is an entry in `errors`.

    Contexts are listed concurrently, each after a bounded probe, so an unreachable one
    costs at most its probe timeout (3 s, ssh 5 s) and never hides the others. `keep`:
    the policy already read for this request (else it is read now).
    """
    keep = KeepPolicy.load() if keep is None else keep
    containers: list[ContainerSummary] = []
    errors: list[ContextError] = []
    contexts = [p.context] if p.context else engines.managed_contexts()
    for name, found in engines.each(contexts, lambda e: e.list_managed()):
        if isinstance(found, DomainError):
            errors.append(ContextError(context=name, message=found.message))
        else:
            containers.extend(to_summary(info, keep) for info in found)
    containers.sort(key=lambda c: (c.context, c.name))
    return ListResult(revision=revision, containers=containers, errors=errors or None)


def target(
    engines: EngineSet, p: StatusParams, config: UserConfig, cwd: str | None = None
) -> ContainerInfo:
    """The container a `status` (or `keep`) request is about: name, else workspace."""
    if p.container and p.workspace:
        raise conflicting("container", "workspace")
    found = find_target(
        engines, config, container=p.container, workspace=p.workspace, context=p.context, cwd=cwd
    )
    if found.container is None:
        raise DomainError(
            "containerNotFound",
            f"No container found for workspace: {found.workspace}",
            hint="Name the container (container) to pick one; list shows them.",
            workspace=found.workspace,
        )
    return found.container


def required_status(info: ContainerInfo, keep: KeepPolicy) -> StatusResult:
    """The fields `status` always returns, straight from one inspect."""
    summary = to_summary(info, keep)
    return StatusResult(**summary.model_dump(), isolation=isolation_of(info))

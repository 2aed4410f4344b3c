"""`list` and the required part of `status`: what exists, across contexts."""

from __future__ import annotations

import os

from containai_rpc.engine import ContainerInfo, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import (
    ContainerSummary,
    ContextError,
    ListParams,
    ListResult,
    StatusParams,
    StatusResult,
)
from containai_rpc.service.resolve import for_target, locate_by_name
from containai_rpc.service.summary import KeepPolicy, isolation_of, to_summary
from containai_rpc.workspace.paths import normalize_path


def list_containers(engines: EngineSet, p: ListParams, revision: int = 0) -> ListResult:
    """Every managed container of every managed context; a dead context is an entry in `errors`.

    Contexts are listed concurrently, each after a bounded probe, so an unreachable one
    costs at most its probe timeout (3 s, ssh 5 s) and never hides the others.
    """
    keep = KeepPolicy.load()
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


def target(engines: EngineSet, p: StatusParams, cwd: str | None = None) -> ContainerInfo:
    """The container a `status` request is about (name, else workspace: state → label)."""
    if p.container and p.workspace:
        raise DomainError(
            "conflictingOptions", "--container and --workspace are mutually exclusive"
        )
    if p.container:
        return locate_by_name(engines, p.container, p.context)[1]
    engine = engines.get(p.context)
    workspace = normalize_path(p.workspace or cwd or os.getcwd())
    info = for_target(engine, workspace)
    if info is None:
        raise DomainError(
            "containerNotFound",
            f"No container found for workspace: {workspace}",
            hint="Use 'cai status --container <name>' to specify a container.",
        )
    return info


def required_status(info: ContainerInfo) -> StatusResult:
    """The fields `status` always returns, straight from one inspect."""
    summary = to_summary(info)
    return StatusResult(**summary.model_dump(), isolation=isolation_of(info))

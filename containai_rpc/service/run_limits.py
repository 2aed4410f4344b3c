"""Resource limits a `run` request asks for: over the configured ones for a new container,
and a warning when an existing container was created with others (limits are fixed at
creation; `fresh` changes them, as in the original, which applies them only then)."""

from __future__ import annotations

from containai_rpc.engine import ContainerInfo
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.limits import MEMORY_MAX, MEMORY_MIN, memory_bytes


def requested_limits(p: RunParams, settings: Settings) -> Settings:
    """`memory`/`cpus` of the request over the configured ones (a request's own limits are
    not a repository's: no tightening applies)."""
    if p.memory is None and p.cpus is None:
        return settings
    if p.memory is not None and not MEMORY_MIN <= memory_bytes(p.memory) <= MEMORY_MAX:
        raise DomainError(
            "invalidParams",
            f"memory must be between 6m and 16384g, got {p.memory!r}",
            hint='Give a size like "4g" (units b, k, m, g).',
        )
    update: dict[str, object] = {}
    if p.memory is not None:
        update["memory"] = p.memory
    if p.cpus is not None:
        update["cpus"] = p.cpus
    repo = tuple(k for k in settings.repo_limits if k not in update)
    return settings.model_copy(update={**update, "repo_limits": repo})


def limits_differ(p: RunParams, existing: ContainerInfo) -> str | None:
    """The warning when a request's limits are not the existing container's: limits apply
    when a container is created, so `fresh` is what changes them."""
    asked = []
    if p.memory is not None and memory_bytes(p.memory) != existing.memory_limit:
        asked.append(f"memory {p.memory}")
    if p.cpus is not None and round(p.cpus * 1e9) != (existing.nano_cpus or 0):
        asked.append(f"cpus {p.cpus:g}")
    if not asked:
        return None
    memory = existing.memory_limit
    has = [
        f"memory {memory / 2**30:g}g" if memory else "no memory limit",
        f"cpus {existing.nano_cpus / 1e9:g}" if existing.nano_cpus else "no CPU limit",
    ]
    return (
        f"Container {existing.name} was created with {', '.join(has)}; the requested "
        f"{', '.join(asked)} apply only when it is created: a fresh run recreates it with them "
        "(the data volume is kept)"
    )

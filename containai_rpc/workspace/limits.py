"""`[container]` resource limits: validated before `run` changes anything, and a
repository's values may tighten the user's limits, never lift them.

A value the engine would refuse, or read as "no limit", must never cost an existing
container: `run --fresh` checks the configuration before it removes the old one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from containai_rpc.errors import DomainError

_MEMORY_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([bkmgBKMG]?)$")
_MEMORY_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}  # what the engine takes
MEMORY_MIN = 6 * 2**20  # the engine refuses less
MEMORY_MAX = 2**44  # 16 TiB: far beyond any host this runs on
CPUS_MIN = 0.01  # the engine's granularity
CPUS_MAX = 1024.0
_MEMORY_EXPECTED = 'a size like "4g" (units b, k, m, g) between 6m and 16384g'

Invalid = Callable[[str, object, str], DomainError]
"""Builds the `configInvalid` error for (key, value, what was expected)."""


def memory_bytes(value: str) -> int:
    """Bytes of a validated memory value ("4g", "512m", "1073741824")."""
    match = _MEMORY_RE.match(value)
    if match is None:
        raise ValueError(value)
    return int(float(match[1]) * _MEMORY_UNITS[match[2].lower()])


def container_limits(section: dict[str, Any], invalid: Invalid) -> dict[str, Any]:
    """`memory` and `cpus` of one file's `[container]` table, checked."""
    found: dict[str, Any] = {}
    memory = section.get("memory")
    if memory is not None:
        text = memory.strip() if isinstance(memory, str) else ""
        if not _MEMORY_RE.match(text) or not MEMORY_MIN <= memory_bytes(text) <= MEMORY_MAX:
            raise invalid("container.memory", memory, _MEMORY_EXPECTED)
        found["memory"] = text
    cpus = section.get("cpus")
    if cpus is not None:
        if (
            isinstance(cpus, bool)
            or not isinstance(cpus, int | float)
            or not math.isfinite(cpus)
            or not CPUS_MIN <= cpus <= CPUS_MAX
        ):
            raise invalid("container.cpus", cpus, f"a number from {CPUS_MIN} to {CPUS_MAX:g}")
        found["cpus"] = float(cpus)
    return found


def tighten(user: dict[str, Any], repo: dict[str, Any]) -> dict[str, Any]:
    """A repository's limits, no higher than the user's; `repo_limits` names those the user
    did not set (they may then lower the default, not raise it: `memory_limit`)."""
    found = dict(repo)
    lower = "memory" in user and memory_bytes(user["memory"]) <= memory_bytes(repo["memory"])
    if "memory" in repo and lower:
        found["memory"] = user["memory"]
    if "cpus" in repo and "cpus" in user:
        found["cpus"] = min(user["cpus"], repo["cpus"])
    found["repo_limits"] = tuple(k for k in ("memory", "cpus") if k in repo and k not in user)
    return found


def memory_limit(memory: str | None, from_repo: bool, mem_total: int) -> str:
    """The configured limit, else half the engine's memory (at least 2g); a limit only a
    repository's config set may lower that default, not raise it."""
    default = f"{max(2, mem_total // 2**30 // 2)}g"
    if memory is None or (from_repo and memory_bytes(memory) > memory_bytes(default)):
        return default
    return memory


def cpus_limit(cpus: float | None, from_repo: bool, ncpu: int) -> float:
    """As `memory_limit`, for CPUs (default: half the engine's, at least 1)."""
    default = float(max(1, ncpu // 2))
    if cpus is None:
        return default
    return min(cpus, default) if from_repo else cpus

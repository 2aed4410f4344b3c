"""The SSH files' cross-process locks, on top of the project's one lock primitive."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from containai_rpc.workspace.locks import locked


@contextmanager
def ssh_lock(name: str, timeout_s: float) -> Iterator[None]:
    """Hold the lock `ssh:<name>`."""
    with locked(f"ssh:{name}", timeout_s=timeout_s):
        yield

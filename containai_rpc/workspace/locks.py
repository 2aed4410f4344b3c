"""Cross-process locks: one per workspace, so two `run`s cannot both create a container."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout

from containai_rpc.errors import DomainError
from containai_rpc.workspace.state import config_dir

LOCK_TIMEOUT_S = 120.0


@contextmanager
def locked(key: str, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the lock named by `key` (a workspace path or container name) across processes."""
    folder = config_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    lock = FileLock(str(folder / f"{digest}.lock"))
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout as exc:
        raise DomainError(
            "busy", f"Another operation on '{key}' is still running; try again shortly."
        ) from exc
    try:
        yield
    finally:
        lock.release()

"""The SSH files' cross-process locks, on top of the project's one lock primitive."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def ssh_lock(name: str, timeout_s: float) -> Iterator[None]:
    """Hold the lock `ssh:<name>`.

    `service.locks` is imported at call time: `containai_rpc.service` imports this
    package, so importing it at module load would make `import containai_rpc.ssh.…`
    fail when it comes first.
    """
    from containai_rpc.service.locks import locked

    with locked(f"ssh:{name}", timeout_s=timeout_s):
        yield

"""The keep policy as the user config says, re-read only when that file changed.

`current()` costs one `stat` while the file is unchanged; a change of its inode, size or
modification time (the config is written by replacing it) reads it once. A file that
cannot be read keeps the last good policy. Thread-safe: the live state asks from its
watcher threads, its executor and request workers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from containai_rpc.errors import DomainError
from containai_rpc.service.summary import KeepPolicy
from containai_rpc.workspace.state import user_config_path

Signature = tuple[int, int, int] | None


def _signature(path: Path) -> Signature:
    try:
        st = os.stat(path)
    except OSError:  # missing (no config yet) or unreadable: the reading says which
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class KeepSource:
    """The last keep policy read, and the file state it was read from."""

    def __init__(
        self,
        load: Callable[[], KeepPolicy] = KeepPolicy.load,
        path: Callable[[], Path] = user_config_path,
    ) -> None:
        self._load = load
        self._path = path
        self._lock = threading.Lock()
        self._policy = KeepPolicy()
        self._read_at: Signature | bool = False  # False: never read
        self.reads = 0

    def current(self) -> tuple[KeepPolicy, bool]:
        """The policy now, and whether it differs from the one returned before."""
        with self._lock:
            signature = _signature(self._path())
            if self._read_at is not False and signature == self._read_at:
                return self._policy, False
            self.reads += 1
            try:
                policy = self._load()
            except DomainError:
                return self._policy, False  # unreadable now: keep the last good rule
            self._read_at = signature
            changed, self._policy = policy != self._policy, policy
            return policy, changed

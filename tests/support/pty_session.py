"""`cai` on a real terminal for the whole session: stdin, stdout and stderr on one pty,
read as it comes, typed into when it shows what the test waits for."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


class PtyCai:
    """One `cai …` process on its own pty (its controlling terminal, like a user's)."""

    def __init__(self, sandbox: Any, cwd: Path, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "containai_rpc.cli", *args],
            cwd=cwd,
            env=sandbox.env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def _read(self, timeout_s: float) -> bool:
        """More output within `timeout_s`; False at EOF (the child closed the pty)."""
        ready, _, _ = select.select([self.master], [], [], timeout_s)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: every process on the pty has gone
            return False
        self.seen += chunk
        return bool(chunk)

    def expect(self, text: bytes, timeout_s: float = 120.0) -> None:
        """Until `text` has been shown (fails with everything seen after the deadline)."""
        deadline = time.monotonic() + timeout_s
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} within {timeout_s} s: {self.text}"
            assert self._read(min(remaining, 1.0)), f"EOF before {text!r}: {self.text}"

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout_s: float = 120.0) -> int:
        """Its exit status, reading the rest of its output meanwhile."""
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None and time.monotonic() < deadline:
            if not self._read(0.5):
                break
        return self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))

    @property
    def text(self) -> str:
        return self.seen.decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

"""Run one argv to completion with a deadline and an output cap, without a shell or a
terminal: what `containai_exec` does with the session argv the service built."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass

READ_CHUNK = 64 * 1024
KILL_GRACE_S = 2.0


@dataclass
class Captured:
    """The first `cap` bytes of a stream, and how many bytes it carried in all."""

    cap: int
    data: bytearray
    total: int = 0

    @property
    def truncated(self) -> bool:
        return self.total > len(self.data)

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass
class Outcome:
    exit_code: int | None
    stdout: Captured
    stderr: Captured
    timed_out: bool
    duration_s: float


async def _drain(stream: asyncio.StreamReader, into: Captured) -> None:
    """Read to EOF; keep up to the cap, count the rest (the writer never blocks on us)."""
    while chunk := await stream.read(READ_CHUNK):
        into.total += len(chunk)
        room = into.cap - len(into.data)
        if room > 0:
            into.data += chunk[:room]


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run_capped(argv: list[str], *, timeout_s: float, cap: int) -> Outcome:
    """`argv` in its own process group, stdin closed; killed (the whole group) at the
    deadline, so ssh and anything it started end with it."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Captured(cap, bytearray()), Captured(cap, bytearray())
    readers = asyncio.gather(_drain(proc.stdout, out), _drain(proc.stderr, err), proc.wait())
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.shield(readers), timeout_s)
    except TimeoutError:
        timed_out = True
        _kill_group(proc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(readers, KILL_GRACE_S)  # pipes held by orphans: give up
    except asyncio.CancelledError:
        _kill_group(proc)
        raise
    code = None if timed_out else proc.returncode
    return Outcome(code, out, err, timed_out, time.monotonic() - started)

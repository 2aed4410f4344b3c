"""`run_capped` with local processes: exit status and stderr, the cap (kept bytes, full
count), and the deadline killing the whole process group."""

from __future__ import annotations

import sys

from containai_rpc.mcp_server.command import run_capped
from tests.support.shared_server import alive


async def test_exit_status_and_both_streams():
    out = await run_capped(["sh", "-c", "echo hi; echo oops >&2; exit 7"], timeout_s=30, cap=1024)
    assert (out.exit_code, out.stdout.text(), out.stderr.text()) == (7, "hi\n", "oops\n")
    assert not (out.timed_out or out.stdout.truncated or out.stderr.truncated)


async def test_output_over_the_cap_is_counted_not_kept():
    script = "import sys; sys.stdout.write('x' * 3_000_000); sys.stderr.write('e' * 10)"
    out = await run_capped([sys.executable, "-c", script], timeout_s=60, cap=4096)
    assert out.exit_code == 0
    assert (bytes(out.stdout.data), out.stdout.total, out.stdout.truncated) == (
        b"x" * 4096,
        3_000_000,
        True,
    )
    assert (out.stderr.text(), out.stderr.truncated) == ("e" * 10, False)


async def test_the_deadline_kills_the_process_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {pidfile}; echo started; wait"
    out = await run_capped(["sh", "-c", script], timeout_s=1, cap=1024)
    assert out.timed_out and out.exit_code is None and out.stdout.text() == "started\n"
    child = int(pidfile.read_text())
    assert not alive(child), "the background child outlived the deadline"

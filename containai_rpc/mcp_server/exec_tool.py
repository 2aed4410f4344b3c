"""`containai_exec`: the session argv the service builds for a command (the same ssh line
`cai exec` runs), executed with a deadline and an output cap.

Without a terminal, sshd does not signal the remote command when the connection drops,
so killing the local ssh at the deadline would leave it running. Each command therefore
carries a marker variable, and a timed-out (or cancelled) one is killed inside the
container: a second session (same argv builder) kills the agent's processes that carry it.
"""

from __future__ import annotations

import logging
import secrets

import anyio
import anyio.to_thread

from containai_rpc.mcp_server.command import Captured, run_capped
from containai_rpc.mcp_server.schemas import ExecArgs, ExecResult
from containai_rpc.mcp_server.scope import Refused
from containai_rpc.protocol.models import RunParams
from containai_rpc.service import Service
from containai_rpc.service.session_command import session_command

log = logging.getLogger("containai_rpc.mcp")
MARKER = "CONTAINAI_EXEC_ID"
KILL_TIMEOUT_S = 15.0
# $1 is the marker's value; children inherit the environment, so the whole tree matches.
_KILL_MARKED = r"""for e in /proc/[0-9]*/environ; do
  if { tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qxF "$1"; then
    p=${e#/proc/}; kill -KILL "${p%/environ}" 2>/dev/null
  fi
done
exit 0"""


async def exec_in_container(service: Service, workspace: str, args: ExecArgs) -> ExecResult:
    marker = f"{MARKER}={secrets.token_hex(8)}"
    env = {**(args.env or {}), MARKER: marker.partition("=")[2]}
    params = RunParams(workspace=workspace, command=args.command, tty=False, env=env)
    run = await anyio.to_thread.run_sync(service.run, params)
    if run.session is None:
        raise Refused(
            f"Container {run.container_name} has no SSH access (its image has no sshd or "
            "SSH setup failed), so commands cannot be run in it."
        )
    try:
        out = await run_capped(
            run.session.argv, timeout_s=args.timeout_seconds, cap=args.max_output_bytes
        )
    except anyio.get_cancelled_exc_class():  # the client cancelled the call: end it there too
        with anyio.CancelScope(shield=True):
            await _kill_marked(run.container_name, marker)
        raise
    stderr = _shown(out.stderr, "stderr")
    if out.timed_out:
        await _kill_marked(run.container_name, marker)
        stderr += f"\n[containai: killed after the {args.timeout_seconds:g} s timeout]\n"
    return ExecResult(
        exit_code=out.exit_code,
        stdout=_shown(out.stdout, "stdout"),
        stderr=stderr,
        timed_out=out.timed_out,
        stdout_truncated=out.stdout.truncated,
        stderr_truncated=out.stderr.truncated,
        stdout_bytes=out.stdout.total,
        stderr_bytes=out.stderr.total,
        duration_seconds=round(out.duration_s, 3),
        container_name=run.container_name,
        workspace=run.workspace,
    )


async def _kill_marked(container: str, marker: str) -> None:
    """A second session into the container the command ran in (its SSH host config is
    in place: the first one used it), killing the processes that carry `marker`."""
    command = ["sh", "-c", _KILL_MARKED, "containai-kill", marker]
    argv = session_command(container, command=command).argv
    done = await run_capped(argv, timeout_s=KILL_TIMEOUT_S, cap=4096)
    if done.exit_code != 0:
        log.warning("mcp: killing a timed-out command failed: %s", done.stderr.text())


def _shown(captured: Captured, name: str) -> str:
    """The kept text, with a last line saying when the cap cut it."""
    text = captured.text()
    if captured.truncated:
        text += (
            f"\n[containai: {name} truncated: kept the first {len(captured.data)} of "
            f"{captured.total} bytes]\n"
        )
    return text

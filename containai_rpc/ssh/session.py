"""The one ssh command line of a session: the agent, a command or a shell, run in the
workspace of a container over SSH (never `docker exec`).

Every client (`cai`, the editor extension, an MCP server) executes exactly this argv, so
the ssh options, quoting and working directory are decided here only.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from containai_rpc.ssh.hostconfig import connect_argv

WORKDIR = "/home/agent/workspace"
CONNECT_TIMEOUT_S = 10  # the original's ConnectTimeout


def remote_command(
    command: Sequence[str], env: Mapping[str, str] | None = None, *, detached: bool = False
) -> str:
    """`cd <workspace> && exec [env VAR=val …] <command>`; detached: started with `nohup`
    in the background, its output discarded, and its pid echoed. (Braced: in the original's
    unbraced form `cd … && nohup … & echo $!` the shell backgrounds the whole list, in a
    subshell that keeps the SSH channel open, and `$!` is that subshell's pid.)"""
    assignments = [f"{name}={value}" for name, value in (env or {}).items()]
    run = shlex.join(["env", *assignments, *command] if assignments else list(command))
    if detached:
        return f"cd {WORKDIR} && {{ nohup {run} </dev/null >/dev/null 2>&1 & echo $!; }}"
    return f"cd {WORKDIR} && exec {run}"


def session_argv(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    tty: bool = False,
    detached: bool = False,
) -> list[str]:
    """`ssh [-F config] -t|-T -o ConnectTimeout=10 -o LogLevel=ERROR <name> '<remote>'`,
    through the container's host config in ~/.ssh/containai.d (key, port, known_hosts).
    A detached command never gets a terminal."""
    ssh, *options, host = connect_argv(name)
    flags = ["-t" if tty and not detached else "-T"]
    flags += ["-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}", "-o", "LogLevel=ERROR"]
    return [ssh, *options, *flags, host, remote_command(command, env, detached=detached)]

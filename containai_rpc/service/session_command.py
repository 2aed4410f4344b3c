"""The session a `run` answer carries: which program (the agent, or a command) and the
exact argv that runs it in the container, for every client alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from containai_rpc.engine import ContainerInfo
from containai_rpc.protocol.models import RunParams, SessionCommand
from containai_rpc.ssh import hostconfig
from containai_rpc.ssh.session import remote_command, session_argv
from containai_rpc.workspace.config import Settings

DEFAULT_AGENT = "claude"  # the original's default command


def session_command(
    name: str,
    *,
    agent: str | None = None,
    command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    tty: bool = False,
    detached: bool = False,
    default_agent: str | None = None,
) -> SessionCommand:
    """The session in container `name`: `command` if given, else the agent (`agent`, else
    `default_agent`, else `claude`)."""
    chosen = None if command else agent or default_agent or DEFAULT_AGENT
    program = list(command) if command else [str(chosen)]
    return SessionCommand(
        argv=session_argv(name, program, env, tty=tty, detached=detached),
        remote_command=remote_command(program, env, detached=detached),
        tty=tty and not detached,
        detached=detached,
        agent=chosen,
    )


def run_session(p: RunParams, settings: Settings, info: ContainerInfo) -> SessionCommand | None:
    """The session a `run` request asked for, when the container can be reached over SSH
    (a port and our host config; a failed quick check on attach does not take it away:
    the session's own connection then reports the failure)."""
    if info.ssh_port is None or not hostconfig.host_config_path(info.name).exists():
        return None
    return session_command(
        info.name,
        agent=p.agent,
        command=p.command,
        env=p.env,
        tty=p.tty,
        detached=p.detached,
        default_agent=settings.agent,
    )

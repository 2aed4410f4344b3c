"""`cai shell` (an interactive SSH session) and `cai ssh cleanup [--dry-run]`."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any

from containai_rpc.cli.commands.base import Command, params, target_arguments
from containai_rpc.cli.escape import printable

SHELL_COMMAND = "cd /home/agent/workspace && exec bash -l"


def _shell_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """A shell needs a running container: exactly what `run` ensures."""
    return "containai/run", params(args, "container", "workspace", "context")


def _render_warnings(r: dict[str, Any]) -> str:
    return "\n".join(f"[WARN] {w}" for w in r.get("warnings") or [])


def _exec_ssh(r: dict[str, Any]) -> None:
    """Replace this process with `ssh -t <alias> 'cd … && exec bash -l'`."""
    ssh = r.get("ssh")
    if not ssh:
        name = printable(r["containerName"], one_line=True)
        print(
            f"[ERROR] Container {name} has no SSH access (its image has no sshd or SSH "
            f"setup failed); use: docker exec -it {name} sh",
            file=sys.stderr,
        )
        raise SystemExit(1)
    ssh_cmd, *options = shlex.split(ssh["command"])
    argv = [ssh_cmd, "-t", *options, SHELL_COMMAND]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        what = printable(f"{argv[0]}: {exc.strerror or exc}")
        print(f"[ERROR] Cannot run {what}", file=sys.stderr)
        raise SystemExit(1) from None


def _ssh_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["cleanup"], help="cleanup: remove stale host configs")
    p.add_argument("--dry-run", action="store_true", help="only list what would be removed")


def _ssh_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    return "containai/sshCleanup", params(args, "dry_run")


def render_cleanup(r: dict[str, Any]) -> str:
    removed, kept = r.get("removed") or [], r.get("kept") or []
    if not removed:
        return "No stale SSH configs found."
    verb = "Would remove" if r.get("dryRun") else "Removed"
    lines = [f"{'[DRY-RUN] ' if r.get('dryRun') else ''}{verb} {len(removed)} stale SSH config(s):"]
    for entry in removed:
        lines.append(f"  {entry['container']}")
        lines.append(f"    Config: {entry['configFile']}")
        if entry.get("port") is not None:
            lines.append(f"    Port:   {entry['port']} (known_hosts entries too)")
    lines.append(f"Summary: {verb.lower()} {len(removed)} config(s), kept {len(kept)}")
    return "\n".join(lines)


COMMANDS = (
    Command(
        "shell",
        "open an interactive SSH session in the workspace's container (starting it if needed)",
        target_arguments,
        _shell_request,
        _render_warnings,
        long_running=True,
        after=_exec_ssh,
        takes_config=True,
    ),
    Command(
        "ssh",
        "SSH housekeeping (ssh cleanup [--dry-run])",
        _ssh_args,
        _ssh_request,
        render_cleanup,
    ),
)

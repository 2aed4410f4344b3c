"""`cai shell` (an interactive SSH session) and `cai ssh cleanup [--dry-run]`."""

from __future__ import annotations

import argparse
from typing import Any

from containai_rpc.cli.commands.base import Command, params, target_arguments
from containai_rpc.cli.commands.sessions import session_params


def _shell_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """A login shell in the workspace: the session `run` answers with (it ensures the
    container as `run` does)."""
    session = session_params(args, ["bash", "-l"])
    return "containai/run", {**params(args, "container", "workspace", "context"), **session}


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
        lambda _result: "",
        long_running=True,
        takes_config=True,
        opens_session=lambda args: not args.json,
    ),
    Command(
        "ssh",
        "SSH housekeeping (ssh cleanup [--dry-run])",
        _ssh_args,
        _ssh_request,
        render_cleanup,
    ),
)

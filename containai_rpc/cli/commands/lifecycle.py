"""`cai run` and `cai stop`."""

from __future__ import annotations

import argparse
import os
from typing import Any

from containai_rpc.cli.commands.base import Command, UsageError, params, target_arguments
from containai_rpc.cli.commands.sessions import env_values, session_arguments, session_params
from containai_rpc.core.idle import parse_period

_VERBS = {"create": "created", "start": "started", "attach": "attached", "recreate": "recreated"}
_STOP_WORDS = {
    "stopped": "Stopped",
    "removed": "Removed",
    "alreadyStopped": "Already stopped",
    "notFound": "Not found",
    "declined": "Not stopped",
    "failed": "Failed",
    "notManaged": "Left alone (not ours)",
}


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", help="workspace directory (default: current)")
    p.add_argument("--workspace", "-w", help="workspace directory")
    p.add_argument("--container", help="use or create the container with this name")
    p.add_argument("--data-volume", help="data volume to mount at /mnt/agent-data")
    p.add_argument("--fresh", action="store_true", help="recreate, keeping the data volume")
    p.add_argument("--restart", action="store_true", help="alias of --fresh")
    p.add_argument("--reset", action="store_true", help="recreate on a new data volume")
    p.add_argument("--keep", action="store_true", help="protect the new container from gc")
    p.add_argument("--template", help="build a new container from this template")
    p.add_argument("--image-tag", metavar="TAG", help="use the image containai:TAG, no template")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument(
        "--idle-stop",
        metavar="PERIOD",
        help="stop the container by itself after this long unused (2h, 30m, 20s) or off; "
        "remembered for the workspace",
    )
    p.add_argument(
        "--approve-volume",
        action="store_true",
        help="accept the data volume the repository's .containai/config.toml selects",
    )
    p.add_argument(
        "--allow-system-workspace",
        action="store_true",
        help="accept /, your home directory or a system directory as the workspace",
    )
    p.add_argument("--agent", help="the agent to run (default: [agent] default, else claude)")
    session_arguments(p)
    p.add_argument("--memory", help="memory limit of a new container, e.g. 4g")
    p.add_argument("--cpus", type=float, help="CPU limit of a new container, e.g. 2")


def _run_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    if args.path and args.workspace:
        raise UsageError("give the workspace either as --workspace or as a path, not both")
    args.workspace = args.workspace or args.path
    if args.idle_stop is not None:
        try:
            parse_period(args.idle_stop)
        except ValueError:
            raise UsageError(
                f"--idle-stop {args.idle_stop!r}: give off or a period from 5s to 365d, "
                "like 2h, 30m or 20s"
            ) from None
    return "containai/run", params(
        args,
        "workspace",
        "container",
        "data_volume",
        "fresh",
        "restart",
        "reset",
        "keep",
        "dry_run",
        "context",
        "approve_volume",
        "allow_system_workspace",
        "template",
        "image_tag",
        "memory",
        "idle_stop",
    ) | session_params(args, args.command_argv) | (
        {"cpus": args.cpus} if args.cpus is not None else {}  # 0 is a value (refused)
    )


def _exec_args(p: argparse.ArgumentParser) -> None:
    target_arguments(p)
    p.add_argument("-e", "--env", action="append", metavar="VAR=VALUE", help="its environment")


def _exec_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """`run` (use or create the container, as the original's exec), with the command and
    never a terminal."""
    if not args.command_argv:
        raise UsageError("give the command after --: cai exec -- CMD ARGS...")
    found = params(args, "container", "workspace", "context")
    env = env_values(args.env)
    return "containai/run", found | {"command": args.command_argv} | ({"env": env} if env else {})


def render_run(r: dict[str, Any]) -> str:
    if r.get("dryRun"):
        lines = [f"[DRY-RUN] Would {r['action']} container {r['containerName']}"]
    else:
        lines = [f"{r['containerName']}: {r['state']} ({_VERBS.get(r['action'], r['action'])})"]
    source = f" ({r['dataVolumeSource']})" if r.get("dataVolumeSource") else ""
    isolation = f", isolation {r['isolation']}" if r.get("isolation") else ""
    lines += [
        f"  Workspace:   {r['workspace']}",
        f"  Data volume: {r['dataVolume']}{source}",
        f"  Image:       {r['image']}",
        f"  Context:     {r['context']}{isolation}",
    ]
    ssh = r.get("ssh")
    if ssh:
        lines.append(f"  Connect:     {ssh['command']}  (port {ssh['port']} on 127.0.0.1)")
    elif not r.get("dryRun"):
        lines.append(f"  Connect:     docker exec -it {r['containerName']} sh")
    for warning in r.get("warnings") or []:
        lines.append(f"  [WARN] {warning}")
    return "\n".join(lines)


def _stop_args(p: argparse.ArgumentParser) -> None:
    target_arguments(p)
    p.add_argument("--all", action="store_true", help="every managed container")
    p.add_argument("--remove", action="store_true", help="remove the container (not the volume)")
    p.add_argument("--force", action="store_true", help="do not ask about active sessions")
    p.add_argument(
        "--export", nargs="?", const=".", metavar="FILE", help="export the data volume first"
    )


def _stop_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    args.export_to = os.path.abspath(args.export) if args.export else None
    return "containai/stop", params(
        args, "container", "workspace", "all", "remove", "force", "context", "export_to"
    )


def render_stop(r: dict[str, Any]) -> str:
    rows = r.get("results") or []
    if not rows:
        return "No ContainAI containers found."
    out = []
    for row in rows:
        line = f"{_STOP_WORDS.get(row['action'], row['action'])}: {row['containerName']}"
        if row.get("context") and row["context"] != "default":
            line += f" [context: {row['context']}]"
        if row.get("message"):
            line += f" ({row['message']})"
        out.append(line)
    return "\n".join(out)


COMMANDS = (
    Command(
        "run",
        "create, start or attach to the workspace's container, then run the agent "
        "(or -- CMD) in it",
        _run_args,
        _run_request,
        render_run,
        long_running=True,
        takes_config=True,
        opens_session=lambda args: not args.json and not args.dry_run,
        takes_command=True,
    ),
    Command(
        "exec",
        "run a command in the container (no terminal); its output and exit status pass through",
        _exec_args,
        _exec_request,
        lambda _result: "",
        takes_config=True,
        opens_session=lambda args: not args.json,
        takes_command=True,
    ),
    Command(
        "stop",
        "stop (or remove) containers; data volumes are always kept",
        _stop_args,
        _stop_request,
        render_stop,
        long_running=True,
        interactive=True,
        failed=lambda r: any(x["action"] in ("declined", "failed") for x in r["results"]),
    ),
)

"""`cai gc` (the original's output layout) and `cai keep`."""

from __future__ import annotations

import argparse
from typing import Any

from containai_rpc.cli.commands.base import Command, params, target_arguments

_LATE_SKIPS = {"startedSinceScan": "now running", "keep": "now kept", "gone": "already gone"}
_KEEP_SOURCES = {
    "label": "its containai.keep label",
    "config": "the user config",
    "both": "its containai.keep label and the user config",
}


def _gc_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    p.add_argument("--age", help="minimum age: N + d/h/m/w, e.g. 30d (default), 7d, 24h")
    p.add_argument("--images", action="store_true", help="also remove unused ContainAI images")
    p.add_argument("--force", action="store_true", help="do not ask for confirmation")


def _gc_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    return "containai/gc", params(args, "dry_run", "age", "images", "force", "context")


def _where(row: dict[str, Any]) -> str:
    return f" [context: {row['context']}]" if row.get("context") != "default" else ""


def render_gc(r: dict[str, Any]) -> str:
    """`Stale ContainAI resources (age >= 7d):` … then the dry-run line or the summary."""
    containers = r.get("candidates") or []
    images = (r.get("images") or {}).get("candidates") or []
    out = [f"[ERROR] context {e['context']}: {e['message']}" for e in r.get("errors") or []]
    if not containers and not images:
        return "\n".join([*out, "No stale resources found."])
    out += [f"Stale ContainAI resources (age >= {r['age']}):", ""]
    if containers:
        out.append("Containers:")
        out += [f"  {c['name']} ({c['state']}, age: {c['age']}){_where(c)}" for c in containers]
        out.append("")
    if images:
        out.append("Unused images:")
        out += [f"  {i['reference']}{_where(i)}" for i in images]
        out.append("")
    if r.get("dryRun"):
        out.append(
            f"[DRY-RUN] Would remove {len(containers)} container(s) and {len(images)} image(s)"
        )
        return "\n".join(out)
    if r.get("declined"):
        out.append("Cancelled.")
        return "\n".join(out)
    out += _outcome(r)
    return "\n".join(out).rstrip("\n")


def _outcome(r: dict[str, Any]) -> list[str]:
    """Warnings for what did not go as planned, then the original's summary lines."""
    lines = []
    planned = {c["id"] for c in r.get("candidates") or []}
    for s in r.get("skipped") or []:
        if s["id"] in planned:  # changed between the scan and its removal
            why = _LATE_SKIPS.get(s["reason"], s["reason"])
            lines.append(f"[WARN] Skipping container ({why}): {s['name']}{_where(s)}")
    for i in (r.get("images") or {}).get("skipped") or []:
        lines.append(f"[WARN] Skipping image (now in use): {i['reference']}{_where(i)}")
    for f in r.get("failed") or []:
        lines.append(
            f"[WARN] Failed to remove {f['kind']}: {f['name']}{_where(f)} ({f['message']})"
        )
    removed = (len(r.get("removed") or []), len((r.get("images") or {}).get("removed") or []))
    failed = [f["kind"] for f in r.get("failed") or []]
    if lines:
        lines.append("")
    if any(removed):
        lines.append(f"Removed: {removed[0]} container(s), {removed[1]} image(s)")
    if failed:
        lines.append(
            f"Failed: {failed.count('container')} container(s), {failed.count('image')} image(s)"
        )
    return lines


def gc_failed(r: dict[str, Any]) -> bool:
    """Exit 1 when anything failed to go, like the original; a refusal or a skip is fine."""
    return bool(r.get("failed"))


def _keep_args(p: argparse.ArgumentParser) -> None:
    target_arguments(p)
    p.add_argument("--off", action="store_true", help="stop protecting the container")


def _keep_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    return "containai/keep", {
        **params(args, "container", "workspace", "context"),
        "keep": not args.off,
    }


def render_keep(r: dict[str, Any]) -> str:
    if r["keep"]:
        return f"Kept: {r['containerName']} is protected from gc ({_KEEP_SOURCES[r['source']]})"
    return f"Not kept: {r['containerName']} may be removed by gc once stale"


COMMANDS = (
    Command(
        "gc",
        "remove stale stopped containers (and unused images); volumes are always kept",
        _gc_args,
        _gc_request,
        render_gc,
        long_running=True,
        interactive=True,
        failed=gc_failed,
    ),
    Command(
        "keep",
        "protect a container from gc (--off: stop protecting it)",
        _keep_args,
        _keep_request,
        render_keep,
    ),
)

"""`cai status` and `cai list`."""

from __future__ import annotations

import argparse
from typing import Any

from containai_rpc.cli import original_json
from containai_rpc.cli.commands.base import Command, params, target_arguments


def _limits(r: dict[str, Any]) -> str:
    """`memory 4g, cpus 2` as created (`--memory`/`--cpus`, `[container]`, the defaults)."""
    memory, cpus = r.get("memoryLimitBytes"), r.get("cpus")
    parts = [f"memory {memory / 2**30:g}g"] if memory else []
    parts += [f"cpus {cpus:g}"] if cpus else []
    return ", ".join(parts)


def render_status(r: dict[str, Any]) -> str:
    """The guide's layout; a line only for a value that is known."""
    lines = [f"Container: {r['name']}", f"  Status: {r['status']}"]
    if r.get("uptime"):
        lines.append(f"  Uptime: {r['uptime']}")
    lines.append(f"  Image: {r['image']}")
    if r.get("template"):
        lines.append(f"  Template: {r['template']}")
    if r.get("outdated"):
        lines.append(f"  Outdated: yes, {r.get('outdatedReason')} (cai run --fresh rebuilds it)")
    if r.get("keep"):
        lines.append("  Keep: yes (protected from gc)")
    limits = _limits(r)
    if limits:
        lines.append(f"  Limits: {limits}")
    mismatch = r.get("volumeMismatch")
    if mismatch:
        lines.append(
            f"  Data volume mismatch: mounted {mismatch.get('mounted') or '<none>'}, "
            f"requested {mismatch['requested']} ({mismatch['source']})"
        )
    sessions = r.get("sessions")
    if sessions:
        lines += [
            "",
            "  Sessions (best-effort):",
            f"    SSH connections: {sessions['sshConnections']}",
            f"    Active terminals: {sessions['activeTerminals']}",
        ]
    res = r.get("resources") or {}
    if res.get("memoryText") or res.get("cpuPercent") is not None:
        lines += ["", "  Resource Usage:"]
        if res.get("memoryText"):
            lines.append(f"    Memory: {res['memoryText']}")
        if res.get("cpuPercent") is not None:
            lines.append(f"    CPU: {res['cpuPercent']:.2f}%")  # docker stats' precision
    return "\n".join(lines)


def render_list(r: dict[str, Any]) -> str:
    rows = r.get("containers") or []
    out = []
    if not rows:
        out.append("No ContainAI containers found.")
    else:
        width = max(len(c["name"]) for c in rows)
        for c in rows:
            keep = ("  keep" if c.get("keep") else "") + ("  outdated" if c.get("outdated") else "")
            out.append(
                f"{c['name']:<{width}}  {c['status']:<10} {c['context']:<12} "
                f"{c.get('workspace') or '-'}{keep}"
            )
    for err in r.get("errors") or []:
        out.append(f"[ERROR] context {err['context']}: {err['message']}")
    return "\n".join(out)


def _status_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    return "containai/status", params(args, "container", "workspace", "context")


def _list_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    return "containai/list", params(args, "context")


COMMANDS = (
    Command(
        "status",
        "state, uptime, sessions and resources",
        target_arguments,
        _status_request,
        render_status,
        json_view=original_json.status,
    ),
    Command("list", "every managed container", lambda p: None, _list_request, render_list),
)

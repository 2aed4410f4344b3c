"""`cai status` and `cai list`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
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
    if r.get("idleStop"):
        lines.append(f"  Idle stop: {idle_line(r)}")
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


def idle_line(r: dict[str, Any], now: datetime | None = None) -> str:
    """`2h (auto-stop in 1h 05m at 12:40:00Z, idle since 10:40:00Z)`, `2h (in use)`, `off`."""
    period = r["idleStop"]
    if period == "off":
        return "off"
    stop_at = r.get("autoStopAt")
    if not stop_at:
        return f"{period} (in use)"
    when = datetime.fromisoformat(stop_at.replace("Z", "+00:00"))
    left = int((when - (now or datetime.now(UTC))).total_seconds())
    hours, rest = divmod(max(0, left), 3600)
    minutes, secs = divmod(rest, 60)
    countdown = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
    since = f", idle since {r['idleSince'][11:]}" if r.get("idleSince") else ""
    return f"{period} (auto-stop in {countdown} at {stop_at[11:]}{since})"


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


def _postpone_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    return "containai/postponeIdleStop", params(args, "container", "workspace", "context")


def render_postpone(r: dict[str, Any]) -> str:
    if not r.get("autoStopAt"):
        return (
            f"{r['containerName']}: idle stop is {r.get('idleStop') or 'off'}; nothing to postpone"
        )
    return f"{r['containerName']}: keeps running; idle auto-stop now at {r['autoStopAt']}"


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
    Command(
        "postpone",
        "keep a running container from stopping itself for one more idle period",
        target_arguments,
        _postpone_request,
        render_postpone,
    ),
)

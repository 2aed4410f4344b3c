"""`cai server status|stop`: the shared server, seen and ended from outside the protocol
(its socket's peer credentials give its pid; its info file what it said at start)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any

from containai_rpc.local import rundir

STOP_DEADLINE_S = 15.0  # the server lets its clients finish for 5 s, then cuts them


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("status", "stop"), help="show or end the shared server")
    p.add_argument(
        "--all",
        action="store_true",
        help="every shared server of yours (other versions and environments too)",
    )
    p.add_argument("--json", action="store_true", help="print the result object as JSON")


def describe(place: rundir.Place) -> dict[str, Any]:
    """What runs at `place`; Refused when its socket is not private to us."""
    try:
        rundir.check_socket(place.socket)
        pid = rundir.server_pid(place.socket)
    except FileNotFoundError:
        pid = None
    info = rundir.read_info(place) if pid is not None else {}
    view: dict[str, Any] = {"running": pid is not None, "socket": str(place.socket)}
    if pid is not None:
        view["pid"] = pid
        view["version"] = info.get("version")
        started = info.get("started")
        if isinstance(started, int | float):
            view["uptimeS"] = round(time.time() - started, 1)
        view["idleTimeoutS"] = info.get("idleS")
        view["log"] = str(place.log)
    return view


def _places(args: argparse.Namespace) -> list[rundir.Place]:
    own = rundir.place()
    if not args.all:
        return [own]
    return rundir.servers(own.dir) if own.dir.is_dir() else []


def stop(place: rundir.Place) -> dict[str, Any]:
    view = describe(place)
    pid = view.get("pid")
    if pid is None:
        return view
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_DEADLINE_S
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.02)
    view["stopped"] = not _alive(pid)
    return view


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with open(f"/proc/{pid}/stat", "rb") as f:  # a zombie (our own child) is gone too
        return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"


def render(action: str, views: list[dict[str, Any]]) -> str:
    if not views or not any(v["running"] for v in views):
        return "No shared server is running."
    lines = []
    for v in (v for v in views if v["running"]):
        if action == "stop":
            verb = "Stopped" if v.get("stopped") else "Could not stop"
            lines.append(f"{verb} the shared server (pid {v['pid']}).")
            continue
        lines += [
            f"Shared server: running (pid {v['pid']}, version {v.get('version')})",
            f"  Socket:      {v['socket']}",
            f"  Log:         {v['log']}",
            f"  Up:          {v.get('uptimeS')} s (exits after {v.get('idleTimeoutS')} s idle)",
        ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """0, or 1 when a socket is not ours or a server would not stop."""
    try:
        places = _places(args)
        views = [stop(p) if args.action == "stop" else describe(p) for p in places]
    except rundir.Refused as exc:
        print(f"[ERROR] {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(views if args.all else views[0], indent=2))
    else:
        print(render(args.action, views))
    return 1 if any(v.get("stopped") is False for v in views) else 0

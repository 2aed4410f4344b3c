"""`--json` output that the original `cai` also prints, in the original's schema.

Scripts written for the original read `cai status --json`; the protocol keeps its own
model (camelCase, numbers, our status vocabulary) and this module maps a protocol result
to the original's object:

    {"container": str, "status": str, "image": str, "uptime": str,
     "sessions": {"ssh_connections": int, "active_terminals": int},
     "resources": {"memory_usage": str, "memory_limit": str,
                   "memory_percent": str, "cpu_percent": str}}

- `status` is Docker's raw state (`running`, `exited`, `created`, …), never `stopped`.
- Values that are unknown are left out, never `null`: `uptime`, `sessions` and
  `resources` exist only for a running container whose figures are known, and each inner
  key is dropped on its own. `memory_percent` and `cpu_percent` are strings with `%`,
  the memory figures Docker's binary units (`1.2GiB`).
- Keys of our own come after the original's and never reuse or rename one of its names.
"""

from __future__ import annotations

from typing import Any

from containai_rpc.core.units import bytes_size

_EXTRA_KEYS = {
    "context": "context",
    "workspace": "workspace",
    "dataVolume": "data_volume",
    "sshPort": "ssh_port",
    "isolation": "isolation",
}
"""Protocol field → extra key of ours (snake_case like the original's)."""


def _resources(res: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    used, limit = res.get("memoryBytes"), res.get("memoryLimitBytes")
    if used is not None:
        out["memory_usage"] = bytes_size(used)
        if limit:
            out["memory_limit"] = bytes_size(limit)
            out["memory_percent"] = f"{round(used / limit * 100):.0f}%"
    if res.get("cpuPercent") is not None:
        out["cpu_percent"] = f"{res['cpuPercent']:.2f}%"  # docker stats' `{{.CPUPerc}}`
    return out


def status(r: dict[str, Any]) -> dict[str, Any]:
    """A `containai/status` result as the original's `cai status --json` object."""
    out: dict[str, Any] = {
        "container": r["name"],
        "status": r.get("dockerState") or r["status"],
        "image": r.get("image") or "unknown",
    }
    if r.get("uptime"):
        out["uptime"] = r["uptime"]
    sessions = r.get("sessions") or {}
    counts = {
        key: sessions[field]
        for field, key in (
            ("sshConnections", "ssh_connections"),
            ("activeTerminals", "active_terminals"),
        )
        if sessions.get(field) is not None
    }
    if counts:
        out["sessions"] = counts
    resources = _resources(r.get("resources") or {})
    if "memory_usage" in resources or "cpu_percent" in resources:
        out["resources"] = resources
    for field, key in _EXTRA_KEYS.items():
        if r.get(field) not in (None, ""):
            out[key] = r[field]
    if r.get("keep"):
        out["keep"] = True
    if r.get("partial"):
        out["partial"] = r["partial"]
    if r.get("volumeMismatch"):
        out["volume_mismatch"] = r["volumeMismatch"]  # {mounted, requested, source}
    if r.get("outdated") is not None:
        out["outdated"] = r["outdated"]
    return out

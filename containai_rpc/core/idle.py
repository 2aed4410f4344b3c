"""Idle auto-stop: the policy's values and what the container's own idle check reports.

The decision and the stop happen inside the container (images/idle-stop/: a unit that
powers it off cleanly), so they keep working with no client alive. The host side only
chooses the settings (seconds, passed at creation and rewritten by `run`) and reads the
check's state file back for `status`, `list` and the warning before a stop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

IDLE_PATTERN = r"^(off|[0-9]{1,7}[smhd])$"
"""What `idleStop` and `[lifecycle] idle_stop` accept: `off` or N followed by s, m, h, d."""
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_PERIOD_S = 5
MAX_PERIOD_S = 365 * 86400

DEFAULT_CHECK_S = 30
DEFAULT_WARNING_S = 300

STATE_FILE = "/var/lib/containai/idle.state"
STAMP_FILE = "/run/containai/activity"
CONF_FILE = "/etc/containai/idle.conf"
MARKER_FILE = "/var/lib/containai/idle-stopped"


def parse_period(text: str, minimum: int = MIN_PERIOD_S) -> int:
    """Seconds of `2h`, `20s`, `90m`, `1d`; 0 for `off`. ValueError for anything else."""
    value = text.strip().lower()
    if value == "off":
        return 0
    if not re.fullmatch(IDLE_PATTERN, value):
        raise ValueError(text)
    seconds = int(value[:-1]) * _UNITS[value[-1]]
    if not minimum <= seconds <= MAX_PERIOD_S:
        raise ValueError(text)
    return seconds


def format_period(seconds: int) -> str:
    """The shortest exact form: 7200 → `2h`, 90 → `90s`, 0 → `off`."""
    if seconds <= 0:
        return "off"
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def check_interval(period_s: int, configured_s: int = DEFAULT_CHECK_S) -> int:
    """How often the container checks: the configured interval, but at least ten times
    per period, so a short period (tests) stops close to its time. Off: the configured
    one (the check then only keeps its state file current)."""
    if period_s <= 0:
        return max(1, configured_s)
    return max(1, min(configured_s, period_s // 10 or 1))


def warning_lead(period_s: int, configured_s: int = DEFAULT_WARNING_S) -> int:
    """How long before an auto-stop the server warns: the configured lead, at most a
    quarter of the period (a 20 s period warns 5 s ahead)."""
    return max(1, min(configured_s, period_s // 4))


def container_settings(period_s: int, check_s: int) -> dict[str, str]:
    """The environment (at creation) and the file (`run` later) the idle check reads."""
    return {
        "CONTAINAI_IDLE_STOP": str(period_s),
        "CONTAINAI_IDLE_CHECK": str(check_interval(period_s, check_s)),
    }


@dataclass(frozen=True)
class IdleView:
    """One reading of the container's idle state file (epoch seconds)."""

    period_s: int
    check_s: int
    active: bool
    idle_since: int
    auto_stop_at: int
    checked: int

    @property
    def enabled(self) -> bool:
        return self.period_s > 0

    @property
    def counting(self) -> bool:
        """Idle now and going to stop: the only time `idleSince`/`autoStopAt` are shown."""
        return self.enabled and not self.active and self.auto_stop_at > 0

    def wire(self) -> dict[str, str | None]:
        """`idleStop`, `idleSince`, `autoStopAt` of a snapshot (snake_case field names)."""
        return {
            "idle_stop": format_period(self.period_s),
            "idle_since": rfc3339(self.idle_since) if self.counting else None,
            "auto_stop_at": rfc3339(self.auto_stop_at) if self.counting else None,
        }


def parse_state(text: str) -> IdleView | None:
    """The state file's `key=value` lines; None when it is not one (absent, torn)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and value.strip().isdigit():
            values[key.strip()] = int(value.strip())
    needed = ("idle_stop", "check", "active", "idle_since", "auto_stop_at", "checked")
    if not all(k in values for k in needed):
        return None
    return IdleView(
        period_s=values["idle_stop"],
        check_s=values["check"],
        active=values["active"] != 0,
        idle_since=values["idle_since"],
        auto_stop_at=values["auto_stop_at"],
        checked=values["checked"],
    )


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stopped_by_idle(marker: str, started_at: datetime | None) -> bool:
    """The container's last exit was its idle check's poweroff: the marker the check wrote
    just before is from after the last start."""
    text = marker.strip()
    if not text.isdigit():
        return False
    return started_at is None or int(text) >= int(started_at.timestamp())

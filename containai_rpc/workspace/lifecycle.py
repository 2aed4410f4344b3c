"""`[lifecycle]` of the user config: the idle auto-stop settings, checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from containai_rpc.core.idle import MIN_PERIOD_S, format_period, parse_period
from containai_rpc.errors import DomainError

Invalid = Callable[[str, object, str], DomainError]


def lifecycle_settings(section: dict[str, Any], invalid: Invalid) -> dict[str, Any]:
    """`idle_stop` (a period or "off"), `idle_check` and `idle_warning` (periods)."""
    found: dict[str, Any] = {}
    for key, field, minimum in (
        ("idle_stop", "idle_stop", MIN_PERIOD_S),
        ("idle_check", "idle_check_s", 1),
        ("idle_warning", "idle_warning_s", 1),
    ):
        value = section.get(key)
        if value is None:
            continue
        try:
            seconds = parse_period(value, minimum) if isinstance(value, str) else -1
        except ValueError:
            seconds = -1
        if seconds < 0 or (seconds == 0 and key != "idle_stop"):
            raise invalid(f"lifecycle.{key}", value, 'a duration like "2h", "30m" or "20s"')
        found[field] = format_period(seconds) if key == "idle_stop" else seconds
    return found

"""Durations and timestamps: `status` uptime, `gc --age`, Docker times and wire times.

Formats match the original's `status` uptime and `gc` ages, so the CLI output reads the same;
`--age` parsing deliberately accepts more than the original (decimals, more units).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from containai_rpc.core.naming import quote_for_message
from containai_rpc.errors import DomainError

_MINUTE = 60
_HOUR = 3600
_DAY = 86400
_UNIT_SECONDS = {"m": _MINUTE, "h": _HOUR, "d": _DAY, "w": 7 * _DAY}

MAX_AGE_SECONDS = 36525 * _DAY
"""100 (Julian) years: any larger `--age` is a typo, not a policy."""

_AGE = re.compile(r"([0-9]+)([dDhHmMwW])")
# More significant digits than this exceed MAX_AGE_SECONDS in any unit; checking the
# length first also keeps int() away from absurdly long inputs.
_MAX_AGE_DIGITS = 12

_DOCKER_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_DOCKER_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def format_uptime(seconds: float) -> str:
    """`3d 4h 12m`, `1h 0m` or `0m` (§9): minutes floored, zero leading units omitted.

    A negative duration (engine clock ahead of ours) shows as `0m`, not as nonsense.
    """
    total = max(0, int(seconds))
    days, rest = divmod(total, _DAY)
    hours, rest = divmod(rest, _HOUR)
    minutes = rest // _MINUTE
    if days > 0:
        return f"{days}d {hours}h {minutes}m"
    if hours > 0:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def parse_age(text: str) -> int:
    """`--age` in seconds: `N` + `d`/`h`/`m`/`w` (any case), decimal, whitespace ignored.

    Unlike the original, `010d` is 10 days (not octal 8) and `08d` is valid.
    """
    match = _AGE.fullmatch(text.strip())
    if match is not None:
        digits = match.group(1).lstrip("0") or "0"
        if len(digits) <= _MAX_AGE_DIGITS:
            seconds = int(digits) * _UNIT_SECONDS[match.group(2).lower()]
            if seconds <= MAX_AGE_SECONDS:
                return seconds
    raise DomainError(
        "invalidAge",
        f"Invalid age format: {quote_for_message(text)} "
        "(expected N followed by d, h, m or w, e.g. 30d, 7d, 24h)",
    )


def format_gc_age(seconds: float) -> str:
    """How old a gc candidate is (§10): `%dd %dh`, or `%dh` under a day."""
    total = max(0, int(seconds))
    days, rest = divmod(total, _DAY)
    hours = rest // _HOUR
    return f"{days}d {hours}h" if days > 0 else f"{hours}h"


def parse_docker_time(value: str) -> datetime | None:
    """An aware UTC datetime from a Docker RFC 3339 timestamp (nanoseconds cut to micro).

    None means "never" (empty, or Docker's zero time `0001-01-01T00:00:00Z`); anything
    else that is not RFC 3339 with an offset raises ValueError, so callers can tell a
    container that never ran from a timestamp they could not read (as gc does, §10).
    """
    if not value:
        return None
    if _DOCKER_TIME.fullmatch(value) is None:
        raise ValueError(f"not a Docker timestamp: {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed == _DOCKER_ZERO_TIME:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. year 1 with a positive offset
        raise ValueError(f"not a Docker timestamp: {value!r}") from exc


def to_rfc3339(dt: datetime) -> str:
    """The wire form of a time: UTC, whole seconds (truncated), `Z` suffix.

    Seconds precision matches the state file's `created_at` and is all any client
    shows; naive datetimes are rejected because their zone is a guess.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("to_rfc3339 needs an aware datetime")
    utc = dt.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return f"{utc.isoformat()}Z"

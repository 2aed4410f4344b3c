"""Uptime, gc ages and timestamps in the original's formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from containai_rpc.core.ages import (
    format_gc_age,
    format_uptime,
    parse_age,
    parse_docker_time,
    to_rfc3339,
)
from containai_rpc.errors import DomainError

DAY = 86400


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (274350, "3d 4h 12m"),  # spec vectors
        (3630, "1h 0m"),
        (30, "0m"),
        (0, "0m"),
        (59.99, "0m"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h 0m"),
        (DAY, "1d 0h 0m"),
        (DAY + 59, "1d 0h 0m"),
        (400 * DAY + 23 * 3600 + 59 * 60 + 59, "400d 23h 59m"),
        (-5, "0m"),  # engine clock ahead of ours
    ],
)
def test_format_uptime(seconds: float, expected: str) -> None:
    assert format_uptime(seconds) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", 30 * DAY),
        ("7d", 7 * DAY),
        ("24h", 24 * 3600),
        ("90m", 90 * 60),
        ("2w", 14 * DAY),
        ("7D", 7 * DAY),
        ("24H", 24 * 3600),
        ("5M", 300),
        ("1W", 7 * DAY),
        ("010d", 10 * DAY),  # decimal, not octal
        ("08d", 8 * DAY),
        ("09h", 9 * 3600),
        ("0d", 0),
        (" 7d\n", 7 * DAY),
        ("\t24h ", 24 * 3600),
        ("36525d", 36525 * DAY),  # 100 years: the largest accepted
        ("5217w", 5217 * 7 * DAY),
        ("0000000000000000000001h", 3600),
    ],
)
def test_parse_age(text: str, expected: int) -> None:
    assert parse_age(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "7",
        "d",
        "-1d",
        "+1d",
        "1.5d",
        "7x",
        "7s",
        "",
        "   ",
        "7 d",
        "7dd",
        "d7",
        "1_000d",
        "1e3d",
        "\uff17d",  # full-width digit 7
        "36526d",
        "5218w",
        "99999999999999999999999999d",
        "9" * 5000 + "d",
    ],
)
def test_parse_age_rejects(text: str) -> None:
    with pytest.raises(DomainError) as info:
        parse_age(text)
    assert info.value.reason == "invalidAge"
    assert info.value.message.startswith("Invalid age format: ")


def test_parse_age_message() -> None:
    with pytest.raises(DomainError) as info:
        parse_age("7x")
    assert info.value.message == (
        "Invalid age format: '7x' (expected N followed by d, h, m or w, e.g. 30d, 7d, 24h)"
    )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0h"),
        (3599, "0h"),
        (3600, "1h"),
        (DAY - 1, "23h"),
        (DAY, "1d 0h"),
        (DAY + 3600, "1d 1h"),
        (31 * DAY + 5 * 3600 + 3599, "31d 5h"),
        (45.5 * DAY, "45d 12h"),
        (-10, "0h"),
    ],
)
def test_format_gc_age(seconds: float, expected: str) -> None:
    assert format_gc_age(seconds) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-15T10:30:45.123456789Z", datetime(2024, 1, 15, 10, 30, 45, 123456, UTC)),
        ("2024-01-15T10:30:45.999999999Z", datetime(2024, 1, 15, 10, 30, 45, 999999, UTC)),
        ("2024-01-15T10:30:45Z", datetime(2024, 1, 15, 10, 30, 45, tzinfo=UTC)),
        ("2024-01-15T10:30:45.5+02:00", datetime(2024, 1, 15, 8, 30, 45, 500000, UTC)),
        ("2024-01-15T10:30:45-05:30", datetime(2024, 1, 15, 16, 0, 45, tzinfo=UTC)),
        ("", None),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_parse_docker_time(value: str, expected: datetime | None) -> None:
    parsed = parse_docker_time(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-01-15",
        "2024-01-15T10:30:45",  # no offset
        "2024-01-15 10:30:45Z",
        "2024-13-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        " 2024-01-15T10:30:45Z",
    ],
)
def test_parse_docker_time_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        parse_docker_time(value)


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime(2024, 1, 15, 10, 30, 45, 999999, UTC), "2024-01-15T10:30:45Z"),
        (
            datetime(2024, 1, 15, 12, 30, 45, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-15T10:30:45Z",
        ),
        (datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC), "0999-12-31T23:59:59Z"),
    ],
)
def test_to_rfc3339(dt: datetime, expected: str) -> None:
    assert to_rfc3339(dt) == expected


def test_to_rfc3339_rejects_naive() -> None:
    with pytest.raises(ValueError, match="aware"):
        to_rfc3339(datetime(2024, 1, 15, 10, 30, 45))


def test_rfc3339_round_trip() -> None:
    text = "2024-01-15T10:30:45Z"
    parsed = parse_docker_time(text)
    assert parsed is not None
    assert to_rfc3339(parsed) == text

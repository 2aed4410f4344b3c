"""`status` pieces without an engine: uptime, Docker's units, cgroup parsing, the layout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from containai_rpc.cli.commands.inspect import render_status
from containai_rpc.engine.stats import (
    CgroupReading,
    ResourceUsage,
    cap_limit,
    cpu_percent,
    parse_grep,
    parse_inside,
    v1_layout,
    v2_layout,
)
from containai_rpc.service.status import bytes_size, run_parts, to_resources, uptime

GIB = 1024**3
MIB = 1024**2
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def started(seconds_ago: float) -> str:
    """A Docker `StartedAt` with nanoseconds, `seconds_ago` (+0.12 s) before NOW."""
    return (NOW - timedelta(seconds=seconds_ago + 1)).strftime("%Y-%m-%dT%H:%M:%S.876543210Z")


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(274350, "3d 4h 12m"), (3630, "1h 0m"), (30, "0m"), (86400, "1d 0h 0m"), (3599, "59m")],
)
def test_uptime_matches_the_original(seconds: int, expected: str) -> None:
    assert uptime(started(seconds), NOW) == expected


@pytest.mark.parametrize("value", [None, "", "0001-01-01T00:00:00Z", "yesterday"])
def test_uptime_unknown(value: str | None) -> None:
    assert uptime(value, NOW) is None


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0B"),
        (1023, "1023B"),
        (1024, "1KiB"),
        (1536, "1.5KiB"),
        (6602752, "6.297MiB"),  # as `docker stats` printed it here
        (25276510208, "23.54GiB"),
        (int(1.2 * GIB), "1.2GiB"),
        (4 * GIB, "4GiB"),
        (1023.99 * 1024, "1024KiB"),  # %.4g rounds up within the unit, like Go's
        (5 * 1024**5, "5PiB"),
    ],
)
def test_bytes_size_is_dockers(size: float, expected: str) -> None:
    assert bytes_size(size) == expected


def test_resources_text_and_percent() -> None:
    r = to_resources(ResourceUsage(int(1.2 * GIB), 4 * GIB, 5.2049))
    assert r.memory_text == "1.2GiB / 4GiB (30%)"
    assert r.memory_percent == 30.0
    assert r.cpu_percent == 5.2
    assert r.wire() == {
        "memoryBytes": int(1.2 * GIB),
        "memoryLimitBytes": 4 * GIB,
        "memoryPercent": 30.0,
        "cpuPercent": 5.2,
        "memoryText": "1.2GiB / 4GiB (30%)",
    }


def test_resources_without_limit_has_no_text() -> None:
    r = to_resources(ResourceUsage(10 * MIB, None, 0.0))
    assert r.wire() == {"memoryBytes": 10 * MIB, "cpuPercent": 0.0}


V1_FILES = {
    "/sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes": "15257600\n",
    "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "9223372036854771712\n",
    "/sys/fs/cgroup/memory/docker/abc/memory.stat": (
        "cache 8560640\nrss 450560\ntotal_cache 8560640\ntotal_inactive_file 8388608\n"
    ),
    "/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage": "373283858\n",
}
V2_FILES = {
    "/sys/fs/cgroup/system.slice/docker-abc.scope/memory.current": "20000000\n",
    "/sys/fs/cgroup/system.slice/docker-abc.scope/memory.max": "max\n",
    "/sys/fs/cgroup/system.slice/docker-abc.scope/memory.stat": (
        "anon 4000000\nfile 16000000\ninactive_file 12000000\n"
    ),
    "/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat": (
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
    ),
}


def test_parse_v1_subtracts_inactive_file_like_docker() -> None:
    reading = v1_layout("docker/abc").parse(V1_FILES)
    assert reading == CgroupReading(15257600, 9223372036854771712, 8388608, 373283858)
    assert reading.memory_used == 15257600 - 8388608


def test_parse_v2() -> None:
    reading = v2_layout("system.slice/docker-abc.scope").parse(V2_FILES)
    assert reading == CgroupReading(20000000, None, 12000000, 1_500_000)
    assert reading.memory_used == 8000000


def test_parse_needs_every_file() -> None:
    files = dict(V1_FILES)
    del files["/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage"]
    assert v1_layout("docker/abc").parse(files) is None
    assert v1_layout("docker/abc").parse(V2_FILES) is None


def test_inactive_file_larger_than_usage_is_not_subtracted() -> None:
    assert CgroupReading(100, None, 200, 0).memory_used == 100


def test_parse_grep_skips_error_lines() -> None:
    out = (
        "/sys/fs/cgroup/memory/memory.usage_in_bytes:802816\n"
        "/sys/fs/cgroup/memory/memory.limit_in_bytes:9223372036854771712\n"
        "grep: /sys/fs/cgroup/memory.current: No such file or directory\n"
        "/sys/fs/cgroup/memory/memory.stat:cache 0\n"
        "/sys/fs/cgroup/memory/memory.stat:total_inactive_file 4096\n"
        "/sys/fs/cgroup/cpuacct/cpuacct.usage:30415464\n"
    )
    paths = v1_layout("").paths
    assert parse_grep(out, paths)[paths[2]] == "cache 0\ntotal_inactive_file 4096\n"
    assert parse_inside(out) == CgroupReading(802816, 9223372036854771712, 4096, 30415464)


def test_parse_inside_v2() -> None:
    out = "\n".join(
        f"{path.replace('/system.slice/docker-abc.scope', '')}:{line}"
        for path, text in V2_FILES.items()
        for line in text.splitlines()
    )
    assert parse_inside(out) == CgroupReading(20000000, None, 12000000, 1_500_000)


@pytest.mark.parametrize(
    ("limit", "engine_memory", "expected"),
    [
        (9223372036854771712, 24 * GIB, 24 * GIB),  # v1 "unlimited"
        (None, 24 * GIB, 24 * GIB),  # v2 "max"
        (4 * GIB, 24 * GIB, 4 * GIB),
        (4 * GIB, 0, 4 * GIB),  # engine memory unknown
        (None, 0, None),
    ],
)
def test_cap_limit(limit: int | None, engine_memory: int, expected: int | None) -> None:
    assert cap_limit(limit, engine_memory) == expected


def test_cpu_percent_is_of_one_core() -> None:
    assert cpu_percent(100_000_000, 0.1) == pytest.approx(100.0)
    assert cpu_percent(150_000_000, 0.1) == pytest.approx(150.0)
    assert cpu_percent(-5, 0.1) == 0.0  # counter reset (container restarted)
    assert cpu_percent(5, 0.0) == 0.0


@pytest.fixture
def stuck() -> Iterator[threading.Event]:
    """Released at teardown, so the stuck part's thread ends with the test."""
    release = threading.Event()
    yield release
    release.set()


def test_run_parts_names_a_part_cut_by_the_deadline(stuck: threading.Event) -> None:
    def fails() -> None:
        raise RuntimeError("engine went away")

    done, cut = run_parts(
        {"sessions": stuck.wait, "resources": lambda: 42, "broken": fails}, deadline_s=0.2
    )
    assert done == {"resources": 42, "broken": None}
    assert cut == ["sessions"]


FULL = {
    "name": "myapp-main",
    "status": "running",
    "uptime": "3d 4h 12m",
    "image": "containai:latest",
    "sessions": {"sshConnections": 2, "activeTerminals": 3},
    "sessionsKnown": True,
    "resources": {"cpuPercent": 5.2, "memoryText": "1.2GiB / 4GiB (30%)"},
}


def test_render_status_guide_layout() -> None:
    assert render_status(FULL) == "\n".join(
        [
            "Container: myapp-main",
            "  Status: running",
            "  Uptime: 3d 4h 12m",
            "  Image: containai:latest",
            "",
            "  Sessions (best-effort):",
            "    SSH connections: 2",
            "    Active terminals: 3",
            "",
            "  Resource Usage:",
            "    Memory: 1.2GiB / 4GiB (30%)",
            "    CPU: 5.20%",
        ]
    )


def test_render_status_only_known_lines() -> None:
    stopped = {"name": "myapp-main", "status": "stopped", "image": "containai:latest"}
    assert render_status(stopped) == (
        "Container: myapp-main\n  Status: stopped\n  Image: containai:latest"
    )
    cut = {**FULL, "sessions": None, "sessionsKnown": False, "resources": {"cpuPercent": 0.0}}
    assert render_status(cut).splitlines()[4:] == ["", "  Resource Usage:", "    CPU: 0.00%"]

"""CPU % of a container on a remote engine: every reading is an exec, so a remembered
sample turns the next request's two-sample exec (100 ms inside) into one plain read."""

from __future__ import annotations

from typing import Any

import pytest

from containai_rpc.engine import ExecResult
from containai_rpc.engine import stats as stats_module
from containai_rpc.engine.stats import ResourceMonitor
from tests.support.fake_engine import FakeEngine


def _v1(memory: int, cpu_ns: int) -> str:
    root = "/sys/fs/cgroup"
    return (
        f"{root}/memory/memory.usage_in_bytes:{memory}\n"
        f"{root}/memory/memory.limit_in_bytes:{8 * 2**30}\n"
        f"{root}/memory/memory.stat:total_inactive_file 0\n"
        f"{root}/cpuacct/cpuacct.usage:{cpu_ns}\n"
    )


def test_a_remembered_sample_makes_the_next_reading_one_plain_exec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = FakeEngine("far", endpoint="ssh://far")
    info = engine.add_container("c")
    clock = [100.0]
    cpu = [0]
    scripts: list[str] = []

    def on_exec(_: Any, argv: list[str]) -> ExecResult:
        scripts.append(argv[-1])
        if "sleep" in argv[-1]:  # two samples, the CPU moved by 50 ms meanwhile
            first, cpu[0] = _v1(1000, cpu[0]), cpu[0] + 50_000_000
            return ExecResult(0, first + "--containai-second-sample--\n" + _v1(1000, cpu[0]))
        return ExecResult(0, _v1(2000, cpu[0]))

    engine.on_exec = on_exec
    monkeypatch.setattr(stats_module.time, "monotonic", lambda: clock[0])
    monitor = ResourceMonitor()
    assert not monitor.reads_once(engine, info.id)  # status then keeps its probe out

    first = monitor.usage(engine, info.id)
    assert first is not None and first.cpu_percent == pytest.approx(50.0)
    assert len(scripts) == 1 and "sleep" in scripts[0]
    assert monitor.reads_once(engine, info.id)

    clock[0] += 0.5  # within a second: the figure is current, memory read afresh
    again = monitor.usage(engine, info.id)
    assert again is not None and (again.cpu_percent, again.memory_bytes) == (
        pytest.approx(50.0),
        2000,
    )
    assert "sleep" not in scripts[1]

    clock[0] += 1.5  # 2 s after the sample: 200 ms of CPU over 2 s, from one plain read
    cpu[0] += 200_000_000
    later = monitor.usage(engine, info.id)
    assert later is not None and later.cpu_percent == pytest.approx(10.0)
    assert len(scripts) == 3 and "sleep" not in scripts[2]

    clock[0] += 10  # too old to be a baseline: two samples again
    monitor.usage(engine, info.id)
    assert "sleep" in scripts[3]

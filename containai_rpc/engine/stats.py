"""Memory and CPU of a container from its cgroup counters, without `docker stats`.

Why not `docker stats`: the daemon answers a stats request in ~1 s (`one_shot`, which has
no previous sample, so no CPU %) or ~2 s (two samples a second apart), measured here. The
same counters are in the container's cgroup:

- local engine (unix socket) whose container cgroup directory is visible under the host's
  /sys/fs/cgroup (`docker/<id>` with the cgroupfs driver, `system.slice/docker-<id>.scope`
  with systemd): read the four files directly, ~0.06 ms;
- otherwise (remote engine, a VM such as Docker Desktop, a custom `--cgroup-parent`): one
  exec in the container, whose own cgroup Docker mounts at /sys/fs/cgroup (private and
  host cgroupns alike), reading the files twice 100 ms apart: ~170 ms; with a sample of
  the last few seconds remembered, one exec reading once. `grep -H ''` says
  which file a line came from (only one of the v1/v2 sets exists); one exec for both
  samples keeps runc's own ~13 ms of CPU per exec out of the measured interval.

The figures are the docker CLI's (cli/command/container/stats_helpers.go): memory = usage
minus inactive page cache (`total_inactive_file` on v1, `inactive_file` on v2); limit = the
cgroup limit capped at the engine's memory (what the daemon reports for "unlimited");
CPU % = Δ CPU time / Δ wall time * 100, so 100 is one full core.

CPU needs two samples. On the local path `ResourceMonitor` keeps the last sample per
container in the process: a request computes from it when it is 0.1-5 s old, reuses a
figure computed less than 1 s ago (`docker stats` refreshes once a second), and only
otherwise waits 100 ms for a second sample. Anything we exec in the container (the session
probe: ~27 ms of CPU) is charged to its cgroup, so the caller runs such work after
`usage()` and calls `note()` when it is done: the next interval starts after it.
"""

from __future__ import annotations

import posixpath
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from containai_rpc.engine.port import Engine
from containai_rpc.errors import DomainError

CGROUP_ROOT = "/sys/fs/cgroup"
MIN_INTERVAL_S = 0.1
"""Shortest interval a CPU % is computed over (scheduler ticks make shorter ones noisy)."""
WINDOW_S = 5.0
"""A sample older than this is no baseline: CPU % describes the last few seconds."""
REUSE_S = 1.0
"""A CPU % computed less than this long ago is still the current figure."""


@dataclass(frozen=True)
class CgroupReading:
    """Raw counters of one cgroup at one moment."""

    memory_usage: int
    memory_limit: int | None  # None: no limit ("max" on v2)
    inactive_file: int
    cpu_ns: int

    @property
    def memory_used(self) -> int:
        """Usage without the inactive page cache, as `docker stats` shows it."""
        if 0 < self.inactive_file < self.memory_usage:
            return self.memory_usage - self.inactive_file
        return self.memory_usage


@dataclass(frozen=True)
class ResourceUsage:
    """What `status` reports: memory in bytes, CPU in percent of one core."""

    memory_bytes: int
    memory_limit_bytes: int | None
    cpu_percent: float


def _stat_values(text: str) -> dict[str, int]:
    """`key value` lines (memory.stat, cpu.stat) → ints."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value)
    return out


@dataclass(frozen=True)
class Layout:
    """Where one cgroup version keeps the four counters, for one cgroup directory."""

    usage: str
    limit: str
    stat: str
    cpu: str
    inactive_key: str
    cpu_ns: Callable[[str], int]

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.usage, self.limit, self.stat, self.cpu)

    def parse(self, texts: Mapping[str, str]) -> CgroupReading | None:
        """The reading, or None when a file is missing or not what this version writes."""
        try:
            limit = texts[self.limit].strip()
            return CgroupReading(
                memory_usage=int(texts[self.usage]),
                memory_limit=None if limit == "max" else int(limit),
                inactive_file=_stat_values(texts[self.stat]).get(self.inactive_key, 0),
                cpu_ns=self.cpu_ns(texts[self.cpu]),
            )
        except (KeyError, ValueError):
            return None


def v1_layout(group: str, root: str = CGROUP_ROOT) -> Layout:
    """cgroup v1: one hierarchy per controller, `group` below each."""
    memory = posixpath.join(root, "memory", group)
    return Layout(
        usage=posixpath.join(memory, "memory.usage_in_bytes"),
        limit=posixpath.join(memory, "memory.limit_in_bytes"),
        stat=posixpath.join(memory, "memory.stat"),
        cpu=posixpath.join(root, "cpuacct", group, "cpuacct.usage"),
        inactive_key="total_inactive_file",
        cpu_ns=int,
    )


def v2_layout(group: str, root: str = CGROUP_ROOT) -> Layout:
    """cgroup v2: one unified hierarchy."""
    base = posixpath.join(root, group)
    return Layout(
        usage=posixpath.join(base, "memory.current"),
        limit=posixpath.join(base, "memory.max"),
        stat=posixpath.join(base, "memory.stat"),
        cpu=posixpath.join(base, "cpu.stat"),
        inactive_key="inactive_file",
        cpu_ns=lambda text: _stat_values(text)["usage_usec"] * 1000,
    )


def host_layout(container_id: str, root: str = CGROUP_ROOT) -> Layout | None:
    """The container's cgroup as this host sees it, when it is visible here."""
    unified = Path(root, "cgroup.controllers").exists()
    make = v2_layout if unified else v1_layout
    for group in (f"docker/{container_id}", f"system.slice/docker-{container_id}.scope"):
        layout = make(group, root)
        if Path(layout.usage).exists():
            return layout
    return None


def read_host(layout: Layout) -> CgroupReading | None:
    try:
        texts = {p: Path(p).read_text() for p in layout.paths}
    except OSError:  # the container stopped between lookup and read
        return None
    return layout.parse(texts)


_INSIDE = (v1_layout(""), v2_layout(""))
_INSIDE_PATHS = " ".join(p for layout in _INSIDE for p in layout.paths)
_INSIDE_MARK = "--containai-second-sample--"
_INSIDE_READ = f"grep -H '' {_INSIDE_PATHS}"
_INSIDE_SCRIPT = (
    f"grep -H '' {_INSIDE_PATHS}; sleep {MIN_INTERVAL_S}; "
    f"echo {_INSIDE_MARK}; grep -H '' {_INSIDE_PATHS}"
)


def parse_grep(output: str, paths: tuple[str, ...]) -> dict[str, str]:
    """`grep -H '' files…` output → file contents; error lines (`grep: …`) are skipped."""
    texts: dict[str, str] = {}
    for line in output.splitlines():
        for path in paths:
            if line.startswith(path + ":"):
                texts[path] = texts.get(path, "") + line[len(path) + 1 :] + "\n"
                break
    return texts


def parse_inside(output: str) -> CgroupReading | None:
    """A reading from the container's own cgroup, whichever version it has."""
    for layout in _INSIDE:
        reading = layout.parse(parse_grep(output, layout.paths))
        if reading is not None:
            return reading
    return None


def cap_limit(limit: int | None, engine_memory: int) -> int | None:
    """The cgroup limit, capped at the engine's memory as the daemon reports it
    (v1 writes "unlimited" as 9223372036854771712, v2 as `max`)."""
    if engine_memory and (limit is None or limit > engine_memory):
        return engine_memory
    return limit or None


def engine_memory(engine: Engine) -> int:
    """The engine's total memory (cached by the engine), 0 when unknown."""
    try:
        return engine.info().mem_total
    except DomainError:
        return 0


def cpu_percent(cpu_ns: int, seconds: float) -> float:
    return max(0, cpu_ns) / (seconds * 1e9) * 100 if seconds > 0 else 0.0


@dataclass(frozen=True)
class _Sample:
    at: float  # time.monotonic() when the counters were read
    cpu_ns: int


class ResourceMonitor:
    """Reads a container's counters; remembers the last sample per container (thread-safe)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], _Sample] = {}
        self._figures: dict[tuple[str, str], tuple[float, float]] = {}  # (at, cpu %)
        self._lock = threading.Lock()

    def usage(
        self, engine: Engine, container_id: str, *, timeout_s: float = 5.0
    ) -> ResourceUsage | None:
        """Memory now and recent CPU %; None when the counters cannot be read."""
        layout = host_layout(container_id) if engine.host == "local" else None
        key = (engine.endpoint, container_id)
        found = (
            self._host_usage(key, layout)
            if layout is not None
            else self._inside_usage(key, engine, container_id, timeout_s)
        )
        if found is None:
            return None
        reading, cpu = found
        return ResourceUsage(
            memory_bytes=reading.memory_used,
            memory_limit_bytes=cap_limit(reading.memory_limit, engine_memory(engine)),
            cpu_percent=cpu,
        )

    def note(self, engine: Engine, container_id: str) -> None:
        """Start the next CPU interval now, after work of ours that ran in the container."""
        layout = host_layout(container_id) if engine.host == "local" else None
        reading = read_host(layout) if layout is not None else None
        if reading is not None:
            self._remember(
                (engine.endpoint, container_id), _Sample(time.monotonic(), reading.cpu_ns)
            )

    def _remember(self, key: tuple[str, str], sample: _Sample) -> None:
        with self._lock:
            for other in [k for k, s in self._last.items() if sample.at - s.at > WINDOW_S]:
                del self._last[other]
                self._figures.pop(other, None)
            self._last[key] = sample

    def _inside_usage(
        self, key: tuple[str, str], engine: Engine, container_id: str, timeout_s: float
    ) -> tuple[CgroupReading, float] | None:
        """Where each reading is an exec (a remote engine): with a recent figure or a
        usable sample, one exec reading once; else one exec sampling twice, 100 ms apart.
        The exec's own CPU (~13 ms) then falls in an interval of 0.1-5 s."""
        with self._lock:
            base = self._last.get(key)
            figure = self._figures.get(key)
        fresh = figure is not None and time.monotonic() - figure[0] < REUSE_S
        if self._reads_once(key):
            reading = read_inside(engine, container_id, timeout_s)
            if reading is None:
                return None
            if fresh and figure is not None:
                return reading, figure[1]
            assert base is not None
            at = time.monotonic()
            cpu = cpu_percent(reading.cpu_ns - base.cpu_ns, at - base.at)
        else:
            found = sample_inside(engine, container_id, timeout_s)
            if found is None:
                return None
            (reading, cpu), at = found, time.monotonic()
        self._remember(key, _Sample(at, reading.cpu_ns))
        with self._lock:
            self._figures[key] = (at, cpu)
        return reading, cpu

    def reads_once(self, engine: Engine, container_id: str) -> bool:
        """Whether `usage` will be one plain reading in the container (a remote engine with
        a recent sample): no measuring interval, so other work there may run alongside."""
        return engine.host != "local" and self._reads_once((engine.endpoint, container_id))

    def _reads_once(self, key: tuple[str, str]) -> bool:
        now = time.monotonic()
        with self._lock:
            base = self._last.get(key)
            figure = self._figures.get(key)
        return (figure is not None and now - figure[0] < REUSE_S) or (
            base is not None and MIN_INTERVAL_S <= now - base.at <= WINDOW_S
        )

    def _host_usage(
        self, key: tuple[str, str], layout: Layout
    ) -> tuple[CgroupReading, float] | None:
        reading = read_host(layout)
        if reading is None:
            return None
        at = time.monotonic()
        with self._lock:
            base = self._last.get(key)
            figure = self._figures.get(key)
        if figure is not None and at - figure[0] < REUSE_S:
            return reading, figure[1]
        if base is None or not MIN_INTERVAL_S <= at - base.at <= WINDOW_S:
            if base is None or at - base.at > WINDOW_S:
                base = _Sample(at, reading.cpu_ns)
            time.sleep(max(0.0, base.at + MIN_INTERVAL_S - at))  # the measuring interval
            reading = read_host(layout)
            if reading is None:
                return None
            at = time.monotonic()
        cpu = cpu_percent(reading.cpu_ns - base.cpu_ns, at - base.at)
        self._remember(key, _Sample(at, reading.cpu_ns))
        with self._lock:
            self._figures[key] = (at, cpu)
        return reading, cpu


def read_inside(engine: Engine, container_id: str, timeout_s: float) -> CgroupReading | None:
    """One reading of the container's own cgroup: one exec, no wait."""
    result = engine.exec(container_id, ["sh", "-c", _INSIDE_READ], timeout_s=timeout_s)
    return parse_inside(result.output)


def sample_inside(
    engine: Engine, container_id: str, timeout_s: float
) -> tuple[CgroupReading, float] | None:
    """(reading, CPU %) from one exec sampling the container's own cgroup twice.

    The interval is the script's `sleep`, slightly shorter than the real one (the second
    `grep` starts a little later), so CPU % may read a few percent high.
    """
    result = engine.exec(container_id, ["sh", "-c", _INSIDE_SCRIPT], timeout_s=timeout_s)
    first, _, second = result.output.partition(_INSIDE_MARK)
    before, after = parse_inside(first), parse_inside(second)
    if before is None or after is None:
        return None
    return after, cpu_percent(after.cpu_ns - before.cpu_ns, MIN_INTERVAL_S)

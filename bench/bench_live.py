"""Live state on a private engine: event latency, idle cost, `containai/list` at scale.

Built from bench_events.py (the live-state engineer's bench): its counting proxy between
server and dockerd, its latency trials (`docker create|start|stop|rm -f` → the matching
`containai/containerChanged`), its idle window and its fill/list helpers. Added here: the
server's RSS, `list` with 10, 200 and 1000 managed containers (created, not running) next
to `docker ps -a --filter label=containai.managed=true --format json` on the same engine,
and the refresh delay of the polling designs (quoted from their sources, not run).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import bench_events
from bench.bench_events import CountingProxy
from bench.common import private_engine
from bench.report import Row, Section, Summary, Target

MB = 1024 * 1024
POLLERS = (
    "Polling designs (quoted, not run; a poll every T seconds shows a change after T/2 on "
    "average and T at worst): Container Tools (microsoft/vscode-containers) — events plus "
    "a 500 ms debounce, and a 60 s safety poll when the event stream fails; DevPod desktop "
    "— `devpod list`/`status` every 5 s; Coder agent — `docker ps` every 10 s."
)
RSS_TARGET = Target("p50", 80, "≤ 80 MB")
DEVPOD = Summary(1, 2500, 4750)  # a 5 s poll: mean delay T/2, p95 0.95 T


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / MB
    raise RuntimeError(f"no VmRSS for {pid}")


def docker_ps(host: str, expect: int, runs: int) -> Summary:
    """What a user (or a polling extension) runs to list the managed containers."""
    argv = ["docker", "-H", host, "ps", "-a", "--filter", "label=containai.managed=true"]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run([*argv, "--format", "json"], check=True, capture_output=True).stdout
        samples.append(time.perf_counter() - started)
        if len(out.splitlines()) != expect:
            raise RuntimeError(f"docker ps listed {len(out.splitlines())}, expected {expect}")
    return Summary.ms(samples)


def _summary(stats: dict[str, Any]) -> Summary:
    return Summary(stats["n"], stats["p50_ms"], stats["p95_ms"])


async def measure(quick: bool) -> Section:
    from tests.support import lsp_client as protocol

    section = Section("Live state (private engine): events, idle cost, `containai/list`")
    rows = section.rows
    sizes = (10, 200) if quick else (10, 200, 1000)
    ps_runs = 5 if quick else 10
    home = Path(tempfile.mkdtemp(prefix="cai-bench-live-"))
    with private_engine() as daemon:
        proxy = CountingProxy(listen=daemon.root / "proxy.sock", upstream=daemon.root / "d.sock")
        await proxy.start()
        client = await protocol.start_server(bench_events.proxied_env(home, proxy))
        try:
            await client.expect("containai/engineStatus", lambda p: p["health"] == "ok")
            pid, ws = client.server_pid, str(home / "ws")
            rss_start = rss_mb(pid)
            latency = await bench_events.latency(client, daemon.host, 5 if quick else 20, ws)
            for kind, command in (("started", "docker start"), ("stopped", "docker stop")):
                rows.append(
                    Row(
                        f"`{command}` (external) → `containerChanged` {kind}",
                        _summary(latency[kind]),
                        alternative="DevPod's 5 s poll: T/2 mean, 0.95 T p95",
                        theirs=DEVPOD,
                        target=Target("p95", 250, "p95 ≤ 250 ms"),
                        quoted=True,
                    )
                )
            lists: dict[int, tuple[Summary, Summary]] = {}
            await bench_events.fill(client, daemon, sizes[0], ws)
            lists[sizes[0]] = await _list_pair(client, daemon.host, sizes[0], ps_runs)
            # The idle window tops the engine up to 50 managed containers.
            idle = await bench_events.idle(
                client, daemon, proxy, 50 - sizes[0], 5.0 if quick else 30.0, ws
            )
            rss_idle = rss_mb(pid)
            for size in sizes[1:]:
                await bench_events.fill(client, daemon, size, ws)
                lists[size] = await _list_pair(client, daemon.host, size, ps_runs)
            rss_end = rss_mb(pid)
        finally:
            await protocol.stop_server(client)
            await proxy.close()
            shutil.rmtree(home, ignore_errors=True)
    for size, (ours, ps) in lists.items():
        rows.append(
            Row(
                f"warm `containai/list`, {size} managed containers (over the protocol)",
                ours,
                alternative="`docker ps -a --filter label=… --format json`",
                theirs=ps,
                target=Target("p50", 50, "p50 ≤ 50 ms") if size == 1000 else None,
            )
        )
    synthetic = bench_events.list_in_process()
    rows.append(
        Row(
            f"`list` from the live cache in-process, {synthetic['containers']} synthetic",
            _summary(synthetic),
            target=Target("p50", 50, "p50 ≤ 50 ms"),
        )
    )
    rows += [
        Row(
            f"idle CPU, 50 managed containers, {idle['window_s']} s window",
            Summary(1, idle["cpu_percent"], idle["cpu_percent"]),
            unit="%",
            target=Target("p50", 1, "≤ 1 %"),
        ),
        Row(
            "server RSS after start (engine connected, no containers)",
            Summary(1, rss_start, rss_start),
            unit="MB",
            target=RSS_TARGET,
        ),
        Row(
            "server RSS, 50 containers cached, after the idle window",
            Summary(1, rss_idle, rss_idle),
            unit="MB",
            target=RSS_TARGET,
        ),
        Row(f"server RSS, {sizes[-1]} containers cached", Summary(1, rss_end, rss_end), "MB"),
    ]
    section.notes = [
        "Latency: from the `docker` command returning to the notification arriving "
        "(negative: the notification came first, e.g. `die` precedes `stop`'s return). "
        + ", ".join(
            f"{k} p50 {v['p50_ms']} / p95 {v['p95_ms']} ms (n={v['n']})" for k, v in latency.items()
        )
        + ".",
        POLLERS,
        f"Idle: {idle['api_calls']} Docker API requests in the window "
        f"(+{idle['backstop_list_calls']} backstop list), counted by a proxy between server "
        "and dockerd; a 5 s poller makes 6 list calls in 30 s, per view.",
    ]
    return section


async def _list_pair(client: Any, host: str, size: int, ps_runs: int) -> tuple[Summary, Summary]:
    ours = _summary(await bench_events.list_over_protocol(client, size))
    return ours, docker_ps(host, size, ps_runs)

"""Live state: Docker event → `containai/containerChanged` latency, idle cost, `list` speed.

    .venv/bin/python bench/bench_events.py [--quick] [--json]

Everything runs against a private dockerd (tests/support/engines.py's `Daemon`: own socket,
data-root, exec-root and network namespace under /tmp; removed afterwards), so nobody
else's containers add events or API calls. The server (`python -m containai_rpc`, driven
by the protocol tests' client from tests/support/lsp_client.py) reaches that daemon through
a small counting proxy on a unix socket: every Docker API request the server makes is
counted there, outside the server. The `docker` commands of the trials go to the daemon
directly and are not counted.

Measured:
1. latency — `docker create|start|stop|rm -f` on a managed container, from the command
   returning to the notification arriving; p50/p95 per kind (target p95 ≤ 250 ms). A
   negative value means the notification came before the command returned.
2. idle — with N managed containers (created, not started) and no changes: Docker API
   requests the server makes in the window (the 60 s backstop's one list call is shown
   apart) and its CPU use from /proc/<pid>/stat (target ≤ 1 %).
3. list — `containai/list` answered from the live cache: in-process for 1000 synthetic
   containers (cache read + JSON, target ≤ 50 ms) and over the protocol with the real ones
   (full run: 1000 real containers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHANGED = "containai/containerChanged"
TINY_IMAGE = "containai-test-tiny:latest"
MANAGED = "containai.managed=true"


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95 in milliseconds."""
    ms = sorted(s * 1000 for s in samples)
    p95 = statistics.quantiles(ms, n=20)[18] if len(ms) >= 2 else ms[0]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(p95, 1)}


# --------------------------------------------------------------------------- API counting


@dataclass
class CountingProxy:
    """HTTP/1.1 over unix sockets, passed through byte for byte, request lines counted."""

    listen: Path
    upstream: Path
    calls: list[tuple[float, str, str]] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.listen))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()

    def since(self, t0: float) -> list[tuple[str, str]]:
        return [(method, path) for t, method, path in self.calls if t >= t0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(str(self.upstream))
        self._open |= {writer, up_writer}
        back = asyncio.ensure_future(_pipe(up_reader, writer))
        try:
            await self._requests(reader, up_writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            up_writer.close()
            await back
            self._open -= {writer, up_writer}

    async def _requests(self, reader: asyncio.StreamReader, out: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            head = [line]
            while (h := await reader.readline()) not in (b"\r\n", b""):
                head.append(h)
            method, path, *_ = line.decode("latin-1").split(" ")
            self.calls.append((time.monotonic(), method, path.split("?", 1)[0]))
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (x.decode("latin-1").partition(":") for x in head[1:])
            }
            out.write(b"".join(head) + b"\r\n")
            length = int(headers.get("content-length") or 0)
            if length:
                out.write(await reader.readexactly(length))
            await out.drain()
            if "upgrade" in headers.get("connection", "").lower():  # hijacked: raw from now
                await _pipe(reader, out)
                return


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def proxied_env(home: Path, proxy: CountingProxy) -> dict[str, str]:
    """A server environment: private HOME, talking to the engine through the counting proxy."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CONTAINAI_", "XDG_"))},
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "DOCKER_HOST": f"unix://{proxy.listen}",
        "CONTAINAI_LOG_LEVEL": "WARNING",
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- helpers


async def docker(host: str, *args: str) -> float:
    """Run `docker -H host …`; the monotonic time it returned."""
    proc = await asyncio.create_subprocess_exec(
        "docker", "-H", host, *args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {err.decode().strip()}")
    return time.monotonic()


def labels(workspace: str) -> list[str]:
    return ["--label", MANAGED, "--label", f"containai.workspace={workspace}"]


def named(name: str, kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda p: p["container"]["name"] == name and p["kind"] == kind


async def all_created(client: Any, names: list[str], timeout: float) -> None:
    """Until a `created` was pushed for every name (in whatever order they come)."""
    pending = set(names)
    deadline = time.monotonic() + timeout
    while pending:
        push = await client.expect_push(
            CHANGED, lambda p: p["kind"] == "created", deadline - time.monotonic()
        )
        pending.discard(push.params["container"]["name"])


# --------------------------------------------------------------------------- phases


async def latency(client: Any, host: str, trials: int, workspace: str) -> dict[str, Any]:
    """create → start → stop → rm -f, `trials` times: command returned → notified."""
    samples: dict[str, list[float]] = {"created": [], "started": [], "stopped": [], "removed": []}
    for i in range(trials):
        name = f"bench-{uuid.uuid4().hex[:8]}-{i}"
        steps = [
            ("created", ["create", *labels(workspace), "--name", name, TINY_IMAGE]),
            ("started", ["start", name]),
            ("stopped", ["stop", name]),
            ("removed", ["rm", "-f", name]),
        ]
        for kind, argv in steps:
            returned = await docker(host, *argv)
            push = await client.expect_push(CHANGED, named(name, kind), timeout=10)
            samples[kind].append(push.received_at - returned)
    every = [s for kind in samples.values() for s in kind]
    return {"all": percentiles(every), **{k: percentiles(v) for k, v in samples.items()}}


async def idle(
    client: Any, daemon: Any, proxy: CountingProxy, containers: int, seconds: float, ws: str
) -> dict[str, Any]:
    """N created containers, no changes: what the server costs while nothing happens."""
    api = daemon.client()
    names = [f"idle-{uuid.uuid4().hex[:8]}-{i}" for i in range(containers)]
    for name in names:
        api.api.create_container(TINY_IMAGE, name=name, labels=dict(_pairs(ws)))
    api.close()
    await all_created(client, names, timeout=30)  # all cached before the window opens
    pid = client.server_pid
    t0, cpu0 = time.monotonic(), cpu_seconds(pid)
    await asyncio.sleep(seconds)  # the measurement window itself, not synchronisation
    cpu = cpu_seconds(pid) - cpu0
    wall = time.monotonic() - t0
    calls = proxy.since(t0)
    backstop = [c for c in calls if c[0] == "GET" and c[1].endswith("/containers/json")]
    return {
        "containers": containers,
        "window_s": round(wall, 1),
        "api_calls": len(calls) - len(backstop),
        "backstop_list_calls": len(backstop),
        "calls": sorted({f"{m} {p}" for m, p in calls}),
        "cpu_percent": round(100 * cpu / wall, 3),
        "method": "requests counted by a unix-socket proxy between server and dockerd; "
        "CPU from /proc/<pid>/stat",
    }


def _pairs(workspace: str) -> list[tuple[str, str]]:
    return [("containai.managed", "true"), ("containai.workspace", workspace)]


def list_in_process(containers: int = 1000, runs: int = 50) -> dict[str, Any]:
    """The live cache's `list` answer for many containers: read + wire JSON."""
    from containai_rpc.engine.models import ContainerInfo
    from containai_rpc.service.livecache import LiveCache
    from containai_rpc.service.summary import KeepPolicy

    cache, keep = LiveCache(), KeepPolicy()
    infos = [
        ContainerInfo(
            id=uuid.uuid4().hex * 2,
            name=f"c-{i}",
            context="default",
            state="running" if i % 2 else "exited",
            image=TINY_IMAGE,
            labels={"containai.managed": "true", "containai.workspace": f"/w/{i}"},
            created_at="2026-01-01T00:00:00.123456789Z",
            started_at="2026-01-01T00:00:01.123456789Z",
            finished_at="2026-01-01T00:00:02.123456789Z",
        )
        for i in range(containers)
    ]
    cache.load("default", infos, keep)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = cache.list(["default"], KeepPolicy.load())
        assert result is not None and len(result.containers) == containers
        json.dumps(result.wire())
        samples.append(time.perf_counter() - t0)
    return {"containers": containers, **percentiles(samples)}


async def list_over_protocol(client: Any, expect: int, runs: int = 20) -> dict[str, Any]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await client.request("containai/list")
        samples.append(time.perf_counter() - t0)
    assert len(result["containers"]) == expect, (len(result["containers"]), expect)
    return {"containers": expect, **percentiles(samples)}


async def fill(client: Any, daemon: Any, total: int, ws: str) -> None:
    """Top the daemon up to `total` managed containers and wait until all are cached."""
    api = daemon.client()
    have = len(api.api.containers(all=True, filters={"label": MANAGED}))
    names = [f"many-{uuid.uuid4().hex[:8]}-{i}" for i in range(total - have)]
    for name in names:
        api.api.create_container(TINY_IMAGE, name=name, labels=dict(_pairs(ws)))
    api.close()
    await all_created(client, names, timeout=120)


# --------------------------------------------------------------------------- driver


async def run(quick: bool) -> dict[str, Any]:
    from tests.support import lsp_client as protocol
    from tests.support.engines import Daemon

    token = uuid.uuid4().hex[:8]
    base = Path(f"/tmp/cai-d-{token}")  # short: unix socket paths are limited to 108 bytes
    daemon = Daemon(root=base, host=f"unix://{base}/d.sock", netns=f"cai-{token}")
    home = Path(tempfile.mkdtemp(prefix="cai-bench-"))
    proxy = CountingProxy(listen=base / "proxy.sock", upstream=base / "d.sock")
    client = None
    try:
        daemon.start()
        daemon.load_image()
        await proxy.start()
        client = await protocol.start_server(proxied_env(home, proxy))
        await client.expect("containai/engineStatus", lambda p: p["health"] == "ok")
        ws = str(home / "ws")
        results: dict[str, Any] = {"quick": quick}
        results["latency"] = await latency(client, daemon.host, 5 if quick else 20, ws)
        results["idle"] = await idle(client, daemon, proxy, 50, 5.0 if quick else 30.0, ws)
        results["list_in_process"] = list_in_process()
        results["list_protocol"] = [await list_over_protocol(client, 50)]
        if not quick:
            await fill(client, daemon, 1000, ws)
            results["list_protocol"].append(await list_over_protocol(client, 1000))
        return results
    finally:
        if client is not None:
            await protocol.stop_server(client)
        await proxy.close()
        remove_daemon(daemon)
        shutil.rmtree(home, ignore_errors=True)


def remove_daemon(daemon: Any) -> None:
    """`Daemon.destroy()`, then what it leaves: the data-root, a bind mount of its own."""
    daemon.destroy()
    subprocess.run(["umount", "-R", str(daemon.root)], capture_output=True)
    shutil.rmtree(daemon.root, ignore_errors=True)


def report(r: dict[str, Any]) -> str:
    lat = r["latency"]
    lines = ["event → containerChanged (docker command returned → notification received):"]
    for kind, stats in lat.items():
        lines.append(
            f"  {kind:8} n={stats['n']:3}  p50 {stats['p50_ms']:7.1f} ms  "
            f"p95 {stats['p95_ms']:7.1f} ms"
        )
    idle_r = r["idle"]
    lines += [
        f"idle, {idle_r['containers']} managed containers, {idle_r['window_s']} s:",
        f"  Docker API calls {idle_r['api_calls']} (+{idle_r['backstop_list_calls']} backstop "
        f"list)  CPU {idle_r['cpu_percent']} %   calls seen: {idle_r['calls'] or 'none'}",
        f"  method: {idle_r['method']}",
        "containai/list from the live cache:",
    ]
    inproc = r["list_in_process"]
    lines.append(
        f"  in-process {inproc['containers']} containers: p50 {inproc['p50_ms']} ms, "
        f"p95 {inproc['p95_ms']} ms"
    )
    for row in r["list_protocol"]:
        lines.append(
            f"  over the protocol, {row['containers']} containers: p50 {row['p50_ms']} ms, "
            f"p95 {row['p95_ms']} ms"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="5 trials, 5 s idle, no 1000-run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = asyncio.run(run(args.quick))
    print(json.dumps(results, indent=2) if args.json else report(results))


if __name__ == "__main__":
    main()

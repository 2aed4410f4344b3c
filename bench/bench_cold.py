"""Server cold start: process spawn → `initialize` answered, and where the time goes.

A minimal client of our own (Content-Length framing over pipes, no pygls) spawns
`python -m containai_rpc`, sends `initialize` at once and stops the clock when the answer
arrives; the server's CPU time at that moment (from /proc) is shown too, since it depends
less on the machine's load than wall time. Then `shutdown` + `exit`, timing how long the
process takes to go away after `exit` (a CLI command waits for that too). The floor is
an interpreter that does nothing (`python -c pass`). `python -X importtime` then says
which packages the start-up time goes to.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from typing import IO, Any

from bench.bench_events import cpu_seconds
from bench.report import Row, Section, Summary, Target
from containai_rpc.protocol.models import PROTOCOL_VERSION

SERVER = [sys.executable, "-m", "containai_rpc"]
CLI_MODULES = "containai_rpc.cli.main, containai_rpc.cli.session"
COLD_TARGET = Target("p50", 600, "p50 ≤ 600 ms")


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def answer(stream: IO[bytes], request_id: int) -> dict[str, Any]:
    """Read messages until the response to `request_id` (notifications are skipped)."""
    while True:
        length = 0
        while (line := stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("ascii").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if not length:
            raise RuntimeError("the server closed its output")
        message = json.loads(stream.read(length))
        if message.get("id") == request_id:
            return message


def one_start() -> tuple[float, float, float]:
    """(spawn → initialize answered, server CPU seconds by then, exit → process gone)."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "processId": None,
            "capabilities": {},
            "initializationOptions": {"containai": {"protocolVersion": PROTOCOL_VERSION}},
        },
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(frame(initialize))
        proc.stdin.flush()
        if "result" not in answer(proc.stdout, 1):
            raise RuntimeError("initialize failed")
        ready = time.perf_counter() - started
        cpu = cpu_seconds(proc.pid)
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        proc.stdin.flush()
        answer(proc.stdout, 2)
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.flush()
        exiting = time.perf_counter()
        proc.wait(timeout=30)
        return ready, cpu, time.perf_counter() - exiting
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def floor() -> float:
    """An interpreter that does nothing: spawn → exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def import_breakdown(module: str, runs: int = 3) -> list[tuple[str, float]]:
    """Import time (ms, median of `runs`) per package that our code imports.

    Each module's self time goes to the outermost package on its import path that is not
    ours (requests imported by docker counts as docker), our own modules by subpackage.
    """
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        entries = []
        for line in err.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                self_us, _, name = line[12:].split("|")
                depth = (len(name) - len(name.lstrip()) - 1) // 2
                entries.append((depth, int(self_us) / 1000, name.strip()))
        groups: dict[str, float] = defaultdict(float)
        path: list[str] = []
        for depth, ms, name in reversed(entries):  # importtime prints children first
            del path[depth:]
            path.append(name)
            outer = next((n for n in path if not n.startswith("containai_rpc")), None)
            key = outer.split(".")[0] if outer else ".".join(name.split(".")[:2])
            groups[key] += ms
        per_run.append(groups)
    names = {name for groups in per_run for name in groups}
    medians = {name: statistics.median(g.get(name, 0.0) for g in per_run) for name in names}
    return sorted(medians.items(), key=lambda item: -item[1])


# What each layer of the server adds to its resident memory (cumulative import sets).
_LAYERS = "import pygls.lsp.server, containai_rpc.protocol.registry"
RSS_STEPS = (
    ("interpreter", "pass"),
    ("+ pygls/lsprotocol", "import pygls.lsp.server"),
    ("+ pydantic and our protocol models", _LAYERS),
    ("+ docker", f"{_LAYERS}, docker"),
    ("the whole server", "import containai_rpc.server.app"),
)


def rss_by_layer() -> str:
    """RSS after importing each layer in a fresh interpreter (VmRSS: ru_maxrss would
    include the forking parent's image)."""
    parts = []
    for label, code in RSS_STEPS:
        out = subprocess.run(
            [sys.executable, "-c", f"{code}; print(open('/proc/self/status').read())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        kib = next(int(line.split()[1]) for line in out.splitlines() if line.startswith("VmRSS:"))
        parts.append(f"{label} {kib / 1024:.0f} MB")
    return ", ".join(parts)


def describe(breakdown: list[tuple[str, float]], top: int = 8) -> str:
    total = sum(ms for _, ms in breakdown)
    parts = ", ".join(f"{name} {ms:.0f} ms ({ms / total:.0%})" for name, ms in breakdown[:top])
    return f"{total:.0f} ms of imports: {parts}"


def measure(runs: int) -> Section:
    starts = [one_start() for _ in range(runs)]
    floors = [floor() for _ in range(min(runs, 10))]
    section = Section("Server cold start (spawn → `initialize` answered)")
    section.rows = [
        Row(
            "spawn → `initialize` answered",
            Summary.ms([s[0] for s in starts]),
            alternative="`python -c pass` (interpreter floor)",
            theirs=Summary.ms(floors),
            target=COLD_TARGET,
        ),
        Row("server CPU time by then (less load-dependent)", Summary.ms([s[1] for s in starts])),
        Row("`exit` notification → process gone", Summary.ms([s[2] for s in starts])),
    ]
    section.notes = [
        f"Server (`containai_rpc.server.app`), `python -X importtime`, median of 3: "
        f"{describe(import_breakdown('containai_rpc.server.app'))}.",
        "CLI (`cli.main`, then `cli.session`, the protocol client it imports once the server "
        f"is spawned): {describe(import_breakdown(CLI_MODULES))}.",
        f"Peak RSS by layer (fresh interpreter each): {rss_by_layer()}.",
    ]
    return section

"""`containai/status` with every field vs what the original spends on the same answer.

The original's `cai status` is `docker inspect` + `docker stats --no-stream` + two
`docker exec` session probes, one after the other. Here: one server, one running
`containai:latest` container, warm `containai/status` calls over the real protocol
(uptime, sessions and resources present in every answer), against that CLI sequence in the
same run. Also shown: `cai status` end to end (a new server per call, so a cold CPU sample).

    .venv/bin/python bench/bench_status.py [--quick] [--calls N]

Needs the real engine and `containai:latest` (`make setup`). Creates one container and one
volume with a unique name and removes both afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from containai_rpc.cli.session import Session

IMAGE = "containai:latest"
# The original's session probe, run twice: once to decide, once to count.
ORIGINAL_PROBE = (
    "command -v ss >/dev/null 2>&1 || exit 2; "
    "ssh_count=$(ss -t state established sport = :22 | tail -n +2 | wc -l); "
    "pty_count=$(ls /dev/pts/ | grep -c '^[0-9]'); "
    'echo "$ssh_count $pty_count"'
)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def docker(*argv: str) -> str:
    return subprocess.run(["docker", *argv], check=True, capture_output=True, text=True).stdout


def original_sequence(name: str) -> None:
    docker("inspect", "--format", "{{.State.Status}} {{.Config.Image}} {{.State.StartedAt}}", name)
    docker("stats", "--no-stream", "--format", "{{.MemUsage}}|{{.CPUPerc}}", name)
    for _ in range(2):
        docker("exec", name, "sh", "-c", ORIGINAL_PROBE)


def sandbox_env(root: Path, volume: str) -> dict[str, str]:
    """A private HOME/XDG so the bench never touches the user's config or ~/.ssh."""
    home = root / "home"
    config = home / ".config" / "containai"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f'[agent]\ndata_volume = "{volume}"\n')
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "CONTAINAI_IMAGE": IMAGE,
        "CONTAINAI_ALLOW_REDUCED_ISOLATION": "1",
        "CONTAINAI_LOG_LEVEL": "WARNING",
        # A private server per call unless a section turns the shared one on (bench_warm),
        # and a runtime dir of its own for that: never the user's shared server.
        "CONTAINAI_SHARED_SERVER": "0",
        "XDG_RUNTIME_DIR": str(root / "run"),
    }


async def warm_status_calls(
    session: Session,
    params: dict[str, Any],
    calls: int,
    check: Callable[[dict[str, Any]], None],
) -> list[float]:
    """Seconds per `containai/status` after 3 warm-up calls; `check` vets every answer."""
    for _ in range(3):  # warm: engine connection, CPU baseline
        await session.request("containai/status", params)
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        result = await session.request("containai/status", params)
        samples.append(time.perf_counter() - started)
        check(result)
    return samples


async def server_calls(workspace: Path, calls: int) -> tuple[str, list[float]]:
    """Run the workspace's container, then time warm status calls against one server."""
    async with Session() as session:
        run = await session.request("containai/run", {"workspace": str(workspace)})
        params = {"workspace": str(workspace)}

        def every_field(result: dict[str, Any]) -> None:
            missing = {"uptime", "sessions", "resources"} - set(result)
            if missing or result.get("partial"):
                raise SystemExit(f"status lacks {sorted(missing)} / partial: {result}")

        samples = await warm_status_calls(session, params, calls, every_field)
        return run["containerName"], samples


def cli_status(workspace: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "containai_rpc.cli", "status", "--json"],
        cwd=workspace,
        check=True,
        capture_output=True,
    )


def table(rows: list[tuple[str, list[float]]], reference: list[float]) -> str:
    base = statistics.median(reference)
    out = [
        "| what | calls | median ms | p95 ms | median / warm status |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, samples in rows:
        med = statistics.median(samples)
        out.append(
            f"| {label} | {len(samples)} | {med * 1000:.1f} | {p95(samples) * 1000:.1f} "
            f"| {med / base:.1f}x |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer CLI repetitions")
    parser.add_argument("--calls", type=int, default=50, help="warm status calls (default 50)")
    args = parser.parse_args()
    logging.getLogger("pygls").setLevel(logging.ERROR)  # notifications this client ignores
    sequences = 3 if args.quick else 10

    root = Path(tempfile.mkdtemp(prefix="cai-bench-status-"))
    volume = f"cai-bench-{uuid.uuid4().hex[:10]}"
    workspace = root / "ws" / "benchstatus"
    workspace.mkdir(parents=True)
    os.environ.update(sandbox_env(root, volume))
    name = None
    try:
        name, warm = asyncio.run(server_calls(workspace, args.calls))
        original = timed(lambda: original_sequence(name), sequences)
        cli = timed(lambda: cli_status(workspace), sequences)
        print(f"`containai/status` vs the original's sequence ({IMAGE}, container {name})\n")
        print(
            table(
                [
                    ("containai/status, warm, one server", warm),
                    ("`cai status --json` (new server per call)", cli),
                    ("docker inspect + stats --no-stream + 2x exec", original),
                ],
                warm,
            )
        )
        ratio = statistics.median(warm) / statistics.median(original)
        verdict = "met" if ratio <= 0.1 else "NOT met"
        print(
            f"\nwarm status / original sequence (medians): {ratio:.3f} (target <= 0.1: {verdict})"
        )
    finally:
        if name:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

"""`containai/status` and `cai status --json` against the docker CLI, on the main engine.

Reuses bench_status.py (the status engineer's bench) for the every-field measurement and
the original's CLI sequence (`docker inspect` + `docker stats --no-stream` + 2x
`docker exec` session probe). Adds: the required-fields-only answer (a stopped
container: one inspect) against one `docker inspect`; every field with a real ssh session
open, so the session probe has something to count; `cai status --json` end to end and
where its time goes (CLI start, server start, first status on a fresh server, exit).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.bench_cold import CLI_MODULES
from bench.bench_status import (
    cli_status,
    original_sequence,
    server_calls,
    timed,
    warm_status_calls,
)
from bench.common import SSHD_IMAGE, TINY_IMAGE, WORKSPACES, MainSandbox
from bench.report import Row, Section, Summary, Target
from containai_rpc.cli.session import Session

SEQUENCE = "docker inspect + stats --no-stream + 2x exec"
SESSION_DEADLINE_S = 30.0


async def running_with_session(workspace: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """`containai/run` on `workspace`, then one ssh session (with a pty) kept open."""
    async with Session() as session:
        run = await session.request(
            "containai/run", {"workspace": str(workspace), "image": SSHD_IMAGE}
        )
        ssh = subprocess.Popen(
            [*shlex.split(run["ssh"]["command"]), "-tt", "-o", "BatchMode=yes", "sleep", "900"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + SESSION_DEADLINE_S
        while time.monotonic() < deadline:  # poll with a deadline: sshd logs the user in
            status = await session.request("containai/status", {"workspace": str(workspace)})
            if (status.get("sessions") or {}).get("sshConnections", 0) >= 1:
                return run["containerName"], ssh
        ssh.kill()
        raise RuntimeError("the ssh session never showed up in status")


async def stopped_required_only(workspace: Path, calls: int) -> tuple[str, list[float]]:
    """A stopped tiny container: warm `containai/status` (required fields only)."""
    params = {"workspace": str(workspace)}
    async with Session() as session:
        run = await session.request("containai/run", {**params, "image": TINY_IMAGE})
        await session.request("containai/stop", {**params, "force": True})

        def required_only(result: dict[str, Any]) -> None:
            if "uptime" in result or result["status"] == "running":
                raise RuntimeError(f"expected the required fields of a stopped container: {result}")

        samples = await warm_status_calls(session, params, calls, required_only)
        return run["containerName"], samples


async def fresh_server_phases(workspace: Path, trials: int) -> dict[str, list[float]]:
    """What `cai status` spends in its server: start → initialized, first status, exit."""
    phases: dict[str, list[float]] = {"start": [], "status": [], "exit": []}
    for _ in range(trials):
        t0 = time.perf_counter()
        async with Session() as session:
            t1 = time.perf_counter()
            await session.request("containai/status", {"workspace": str(workspace)})
            t2 = time.perf_counter()
        t3 = time.perf_counter()
        phases["start"].append(t1 - t0)
        phases["status"].append(t2 - t1)
        phases["exit"].append(t3 - t2)
    return phases


def cli_import() -> None:
    """A `cai` process's own start: interpreter, the CLI and its protocol client."""
    subprocess.run([sys.executable, "-c", f"import {CLI_MODULES}"], check=True)


async def measure(box: MainSandbox, quick: bool) -> Section:
    calls, trials = (20, 3) if quick else (50, 10)
    sshd_ws, tiny_ws = box.workspace(WORKSPACES[SSHD_IMAGE]), box.workspace(WORKSPACES[TINY_IMAGE])
    name, ssh = await running_with_session(sshd_ws)
    try:
        _, every = await server_calls(sshd_ws, calls)
        sequence = timed(lambda: original_sequence(name), trials)
        cli = timed(lambda: cli_status(sshd_ws), trials)
        phases = await fresh_server_phases(sshd_ws, trials)
        imports = timed(cli_import, trials)
    finally:
        ssh.kill()
        ssh.wait()
    tiny, required = await stopped_required_only(tiny_ws, calls)
    inspect = timed(
        lambda: subprocess.run(["docker", "inspect", tiny], check=True, capture_output=True), calls
    )
    seq = Summary.ms(sequence)
    section = Section("`containai/status` and `cai status --json` vs the docker CLI")
    section.rows = [
        Row(
            "warm `containai/status`, required fields only (stopped container)",
            Summary.ms(required),
            alternative="`docker inspect`",
            theirs=Summary.ms(inspect),
            target=Target("p50", 10, "p50 ≤ 10 ms"),
        ),
        Row(
            "warm `containai/status`, every field (running, 1 ssh session)",
            Summary.ms(every),
            alternative=SEQUENCE,
            theirs=seq,
            target=Target("ratio", 0.1, "≤ 1/10 of the CLI"),
        ),
        Row(
            "`cai status --json` end to end (CLI start to exit)",
            Summary.ms(cli),
            alternative=SEQUENCE,
            theirs=seq,
            target=Target("ratio", 1.0, "faster than the CLI"),
        ),
        Row("… of which: CLI interpreter + imports (overlaps the next)", Summary.ms(imports)),
        Row("… server spawn → initialized", Summary.ms(phases["start"])),
        Row("… first status on a fresh server", Summary.ms(phases["status"])),
        Row("… shutdown + exit → server gone", Summary.ms(phases["exit"])),
    ]
    section.notes = [
        f"Containers on the main engine: `{name}` ({SSHD_IMAGE}, running, "
        f"one `ssh -tt` session open) and `{tiny}` ({TINY_IMAGE}, stopped).",
        "The `… of which` rows are measured separately (same container). `cai` starts the "
        "server before it imports its protocol client (pygls), so its own imports run while "
        "the server starts up: the rows add up to more than the end-to-end time.",
    ]
    return section

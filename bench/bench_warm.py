"""`cai` with the shared server (`containai-rpc --listen`) against the docker CLI, on the
main engine: whole processes, as a user or a script runs them.

Warm (the server runs): `cai list --json` against `docker ps -a`; `cai status --json` of a
running `containai:latest` container (every field: uptime, sessions, resources) against
`docker ps -a` and the original's sequence (`docker inspect` + `docker stats --no-stream` +
2x `docker exec`); `cai stop --force` against `docker stop` of the same container. Cold
(no server): the first `cai list --json`, which starts it; 20 `cai list --json` started
at once with no server: how many servers started, how many calls failed. And the same
`cai list --json` with a private server per call (`CONTAINAI_SHARED_SERVER=0`), as
before the shared server.

    .venv/bin/python -m bench --only warm

The bench's own runtime dir (XDG_RUNTIME_DIR) keeps its servers apart from the user's;
all are stopped at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_status import original_sequence
from bench.common import SSHD_IMAGE, WORKSPACES, MainSandbox
from bench.report import Row, Section, Summary, Target

CAI = [sys.executable, "-m", "containai_rpc.cli"]
RACERS = 20


def env(shared: bool = True) -> dict[str, str]:
    return {**os.environ, "CONTAINAI_SHARED_SERVER": "1" if shared else "0"}


def cai(*args: str, cwd: Path | None = None, shared: bool = True) -> str:
    done = subprocess.run(
        [*CAI, *args], cwd=cwd, env=env(shared), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"cai {' '.join(args)}: {done.stderr}")
    return done.stdout


def docker(*args: str) -> None:
    subprocess.run(["docker", *args], check=True, capture_output=True)


def timed(fn: Callable[[], Any], n: int, before: Callable[[], Any] | None = None) -> list[float]:
    """n wall times of `fn`, each after an untimed `before`."""
    out = []
    for _ in range(n):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def stop_servers() -> None:
    cai("server", "stop", "--all")


def runtime_dir() -> Path:
    return Path(os.environ["XDG_RUNTIME_DIR"]) / "containai"


def race() -> tuple[float, int, int]:
    """(wall time of all, servers started, failed calls) for RACERS calls at once."""
    stop_servers()
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*CAI, "list", "--json"], env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(RACERS)
    ]
    failed = 0
    for proc in procs:
        out, _ = proc.communicate()
        failed += proc.returncode != 0 or "containers" not in json.loads(out or b"{}")
    wall = time.perf_counter() - started
    logs = [p.read_text() for p in runtime_dir().glob("*.log")]
    return wall, sum(log.count("listening on") for log in logs), failed


def stop_rows(workspace: Path, name: str, n: int) -> tuple[list[float], list[float]]:
    """`cai stop --force` and `docker stop`, alternately, each on the container just made
    ready by `cai run` (systemd up, sshd answering)."""
    ours, theirs = [], []
    for _ in range(n):
        cai("run", "--json", cwd=workspace)
        ours += timed(lambda: cai("stop", "--force", "--json", cwd=workspace), 1)
        cai("run", "--json", cwd=workspace)
        theirs += timed(lambda: docker("stop", name), 1)
    return ours, theirs


def measure(box: MainSandbox, quick: bool) -> Section:
    n = 5 if quick else 10
    workspace = box.workspace(WORKSPACES[SSHD_IMAGE])
    runtime_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        cold = timed(lambda: cai("list", "--json"), 3 if quick else 5, before=stop_servers)
        wall, servers, failed = race()
        name = json.loads(cai("run", "--json", cwd=workspace))["containerName"]
        ps = timed(lambda: docker("ps", "-a"), n)
        listed = timed(lambda: cai("list", "--json"), n)
        private = timed(lambda: cai("list", "--json", shared=False), n)
        status = timed(lambda: cai("status", "--json", cwd=workspace), n)
        full = json.loads(cai("status", "--json", cwd=workspace))
        sequence = timed(lambda: original_sequence(name), 3 if quick else 5)
        ours_stop, docker_stop = stop_rows(workspace, name, 3 if quick else 5)
    finally:
        stop_servers()
    docker_ps = Summary.ms(ps)
    stop_limit = Summary.ms(docker_stop).p50 + 150
    section = Section("`cai` with the shared server vs the docker CLI (whole processes)")
    section.rows = [
        Row(
            "warm `cai list --json`",
            Summary.ms(listed),
            alternative="`docker ps -a`",
            theirs=docker_ps,
            target=Target("p50", 100, "p50 ≤ 100 ms"),
        ),
        Row(
            "`cai list --json`, private server per call (as before)",
            Summary.ms(private),
            alternative="`docker ps -a`",
            theirs=docker_ps,
        ),
        Row(
            "warm `cai status --json`, running containai:latest, every field",
            Summary.ms(status),
            alternative="`docker ps -a`",
            theirs=docker_ps,
            target=Target("p50", 250, "p50 ≤ 250 ms"),
        ),
        Row(
            "… the same, against the original's sequence",
            Summary.ms(status),
            alternative="docker inspect + stats --no-stream + 2x exec",
            theirs=Summary.ms(sequence),
        ),
        Row(
            "warm `cai stop --force` (containai:latest, running)",
            Summary.ms(ours_stop),
            alternative="`docker stop`",
            theirs=Summary.ms(docker_stop),
            target=Target("p50", stop_limit, "p50 ≤ docker stop + 150 ms"),
        ),
        Row(
            "cold `cai list --json` (no server: starts it)",
            Summary.ms(cold),
            target=Target("p50", 1200, "p50 ≤ 1200 ms"),
        ),
        Row(f"{RACERS} `cai list --json` at once, no server (all of them)", Summary.ms([wall])),
    ]
    fields = sorted(k for k in full if full[k] is not None)
    section.notes = [
        f"{RACERS} calls racing with no server: {servers} server(s) started, "
        f"{failed} call(s) failed.",
        f"`cai status --json` fields present: {', '.join(fields)}.",
        "Medians of whole processes (`python -m containai_rpc.cli …`, interpreter start "
        "included); `cai stop --force` and `docker stop` alternate on the same container, "
        "each right after `cai run` made it ready.",
    ]
    return section

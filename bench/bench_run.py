"""`containai/run` on a running container (attach) and a stopped one (start + verification).

Warm server; one container per image on the main engine (`containai:latest`, systemd +
sshd, and the tiny busybox image), shared with the status section. The alternative is
what a user would type to get to the same point: `docker start` and then a readiness check
with `docker exec` (`true` for the tiny image; for the sshd image `systemctl
is-system-running` until it has settled, then one ssh key login, which is what our
verification ends with too).
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_status import docker, timed
from bench.common import WORKSPACES, MainSandbox
from bench.report import Row, Section, Summary
from containai_rpc.cli.session import Session

READY_DEADLINE_S = 60.0
POLL_S = 0.05
SETTLED = ("running", "degraded")


def _poll(check: Callable[[], bool], what: str) -> None:
    """`check()` until true, bounded: a script's readiness loop."""
    deadline = time.monotonic() + READY_DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within {READY_DEADLINE_S:.0f} s")
        time.sleep(POLL_S)  # the loop's own polling interval, as a script would have it


def start_and_check(name: str, login: list[str] | None) -> None:
    """The docker CLI way: `docker start`, then `docker exec` readiness (and ssh login)."""
    docker("start", name)
    if login is None:
        docker("exec", name, "true")
        return

    def settled() -> bool:
        state = subprocess.run(
            ["docker", "exec", name, "systemctl", "is-system-running"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return state in SETTLED

    _poll(settled, f"systemd in {name}")
    _poll(lambda: subprocess.run([*login, "true"], capture_output=True).returncode == 0, "ssh")


async def one_image(session: Session, workspace: Path, image: str, trials: int) -> list[Row]:
    params = {"workspace": str(workspace), "image": image}
    first = await session.request("containai/run", params)  # created if need be, running
    name, ssh = first["containerName"], first.get("ssh")
    login = [*shlex.split(ssh["command"]), "-o", "BatchMode=yes"] if ssh else None

    async def run_timed() -> float:
        started = time.perf_counter()
        await session.request("containai/run", params)
        return time.perf_counter() - started

    attach = [await run_timed() for _ in range(trials)]
    attach_cli = timed(lambda: start_and_check(name, login), trials)
    start, start_cli = [], []
    for _ in range(trials):
        docker("stop", name)
        start.append(await run_timed())
        docker("stop", name)
        started = time.perf_counter()
        start_and_check(name, login)
        start_cli.append(time.perf_counter() - started)
    alternative = "docker start + exec systemctl … + ssh login" if login else "docker start + exec"
    return [
        Row(
            f"`containai/run`, running → attach ({image})",
            Summary.ms(attach),
            alternative=alternative,
            theirs=Summary.ms(attach_cli),
        ),
        Row(
            f"`containai/run`, stopped → start + verify ({image})",
            Summary.ms(start),
            alternative=alternative,
            theirs=Summary.ms(start_cli),
        ),
    ]


async def measure(box: MainSandbox, quick: bool) -> Section:
    trials = 3 if quick else 10
    section = Section("`containai/run`: attach and start vs `docker start` + readiness check")
    async with Session() as session:
        for image, label in WORKSPACES.items():
            section.rows += await one_image(session, box.workspace(label), image, trials)
    section.notes = [
        "Warm server (one session). Before each stopped-container trial the container is "
        "stopped with `docker stop` (not timed). Our start path verifies: running state, "
        "systemd settled (`is-system-running`), sshd banner, key authorised, known_hosts, "
        "host config, a real key login; the attach path repeats the SSH part (sshd banner, "
        "key, host keys, a key login) without waiting for systemd.",
    ]
    return section

"""Reliability fixtures: profiles, real servers on a dedicated engine, and the figures.

- Profile: `CONTAINAI_RELIABILITY_PROFILE=long` scales every bounded loop up (`make
  reliability`); the default `fast` profile is what CI runs inside `make test`.
- `servers`: starts real `containai-rpc` processes (raw framing client) with the test's
  sandbox environment, optionally pointed at a `dedicated_engine`; every one still
  running at the end must be alive (else it counts as a crash) and is shut down.
- `TALLY` collects what the tests did (inputs sent, faults injected, races run) and what
  they measured (crashes, volumes lost, foreign containers touched); the terminal
  summary prints it as one line, which README's "Reliability" section quotes.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from raw_client import RawServer

PROFILE = os.environ.get("CONTAINAI_RELIABILITY_PROFILE", "fast")
TALLY: Counter[str] = Counter()


def scaled(fast: int, long: int) -> int:
    """A bound of the current profile."""
    return long if PROFILE == "long" else fast


def volume_names(client: docker.DockerClient) -> set[str]:
    return {v.name for v in client.volumes.list()}


def container_fingerprint(client: docker.DockerClient, ids: list[str]) -> dict[str, Any]:
    """What 'touched' means: gone, renamed, restarted, stopped or started since."""
    prints: dict[str, Any] = {}
    for cid in ids:
        try:
            attrs = client.api.inspect_container(cid)
        except docker.errors.NotFound:
            prints[cid] = "removed"
            continue
        state = attrs["State"]
        prints[cid] = (
            attrs["Name"],
            state["Status"],
            state["StartedAt"],
            state["FinishedAt"],
            attrs["RestartCount"],
        )
    return prints


def check_untouched(client: docker.DockerClient, before: dict[str, Any]) -> None:
    """Assert foreign containers are exactly as they were; count them in the tally."""
    after = container_fingerprint(client, list(before))
    touched = [cid[:12] for cid in before if after[cid] != before[cid]]
    TALLY["foreign containers checked"] += len(before)
    TALLY["foreign containers touched"] += len(touched)
    assert not touched, f"foreign containers touched: {touched} ({before} → {after})"


def check_volumes_kept(client: docker.DockerClient, before: set[str]) -> None:
    """Assert no volume that existed before is gone; count them in the tally."""
    lost = before - volume_names(client)
    TALLY["volumes checked"] += len(before)
    TALLY["volumes lost"] += len(lost)
    assert not lost, f"volumes lost: {sorted(lost)}"


ServerFactory = Callable[..., RawServer]


@pytest.fixture
def servers(sandbox: Any, tmp_path: Path) -> Iterator[ServerFactory]:
    """`start(env=None, cwd=None, initialize=True, capabilities=None, command=None)`."""
    started: list[RawServer] = []

    def start(
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        *,
        initialize: bool = True,
        capabilities: dict[str, Any] | None = None,
        command: list[str] | None = None,
    ) -> RawServer:
        server = RawServer(
            env if env is not None else sandbox.env,
            cwd or sandbox.root,
            tmp_path / f"server-{len(started)}.stderr",
            command,
        )
        started.append(server)
        TALLY["server processes"] += 1
        if initialize:
            server.initialize(capabilities)
        return server

    yield start
    # Gone without being killed or told to exit (exit code 0 after shutdown+exit) = crashed.
    crashed = [s for s in started if not s.alive() and not s.killed and s.proc.returncode != 0]
    for server in started:
        server.close()
    crashed += [s for s in started if s.hung_at_shutdown]
    TALLY["server crashes"] += len(crashed)
    assert not [s.garbage for s in started if s.garbage], "stdout must carry only protocol"
    assert not crashed, [
        f"pid {s.pid} exit {s.proc.returncode}: {s.stderr_text()}" for s in crashed
    ]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line of figures, measured by the tests that ran (README quotes the fast one)."""
    if not TALLY:
        return
    t = TALLY
    line = (
        f"containai reliability ({PROFILE} profile): "
        f"inputs: {t['fuzzed messages']} fuzzed messages, {t['framing cases']} malformed "
        f"frames, {t['injection inputs']} injection inputs, {t['damaged state files']} "
        f"damaged state files; faults: {t['faults: engine SIGKILL']} engine SIGKILLs "
        f"({t['engine restarts']} restarts), {t['faults: server SIGKILL']} server SIGKILLs; "
        f"races: {t['race operations']} operations by {t['race clients']} concurrent clients; "
        f"measured: {t['server crashes']} crashes or hangs in {t['server processes']} server "
        f"processes, {t['volumes lost']} of {t['volumes checked']} volumes lost, "
        f"{t['foreign containers touched']} of {t['foreign containers checked']} foreign "
        f"containers touched, {t['secrets leaked']} secrets leaked in "
        f"{t['secret checks']} checks, {t['bad file modes']} bad modes of "
        f"{t['file modes checked']} private files, {t['listening sockets']} listening sockets"
    )
    terminalreporter.write_sep("=", "reliability summary")
    terminalreporter.write_line(line)

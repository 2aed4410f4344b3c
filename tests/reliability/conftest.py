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

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.raw_client import RawServer
from tests.support.reliability import PROFILE, TALLY

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
        f"{t['file modes checked']} private files, {t['listening sockets']} listening sockets, "
        f"{t['label-less managed containers refused']} of "
        f"{t['label-less managed container operations']} operations on label-less managed "
        f"containers refused, {t['unlocked appends lost']} of {t['unlocked appends']} "
        "config.toml tables appended without our lock lost"
    )
    terminalreporter.write_sep("=", "reliability summary")
    terminalreporter.write_line(line)

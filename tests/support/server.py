"""A test-only server entry point: the real stdio server with a test clock or sshd deadline.

    python tests/support/server.py [--now RFC3339] [--sshd-timeout SECONDS]

It builds `Service(clock=…, sshd_timeout_s=…)` and serves it over stdio the way
`containai_rpc.server.app.main` serves the default one. Production code reads no test
settings from the environment; tests that need them in a server process start this one:
`command(...)` is its argv, and `env_command(...)` the same as one string for
`CONTAINAI_SERVER` (which the CLI splits on whitespace).

Run by path, not with `-m`, so it works from any working directory.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve()


def command(*, now: datetime | str | None = None, sshd_timeout_s: float | None = None) -> list[str]:
    """The argv that starts this entry point with the given test settings."""
    argv = [sys.executable, str(HERE)]
    if now is not None:
        argv += ["--now", now if isinstance(now, str) else now.isoformat()]
    if sshd_timeout_s is not None:
        argv += ["--sshd-timeout", str(sshd_timeout_s)]
    return argv


def env_command(**settings: object) -> str:
    """`command(...)` as the value of `CONTAINAI_SERVER`."""
    argv = command(**settings)  # type: ignore[arg-type]
    assert not any(" " in part for part in argv), argv  # the CLI splits on whitespace
    return " ".join(argv)


def parse_now(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise SystemExit(f"--now must be an RFC 3339 time with an offset: {text!r}")
    return parsed.astimezone(UTC)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--now", type=parse_now, help="the service clock's fixed time")
    parser.add_argument("--sshd-timeout", type=float, help="sshd deadline in seconds")
    args = parser.parse_args(argv)

    from containai_rpc.core.clock import system_clock
    from containai_rpc.server import app
    from containai_rpc.service import Service
    from containai_rpc.service.verify import SSHD_DEADLINE_S

    now: datetime | None = args.now
    service = Service(
        clock=(lambda: now) if now is not None else system_clock,
        sshd_timeout_s=args.sshd_timeout or SSHD_DEADLINE_S,
    )
    level = os.environ.get("CONTAINAI_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else "INFO",
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(app._QuietDomainErrors())
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the protocol stream
    app.create_server(service).start_io(app.ResyncingStdin(stdin), stdout)
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()

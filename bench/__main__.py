"""`python -m bench` (`make bench`): every comparison in one run, written to results.md.

Sections: `cold` (server start), `state` (a workspace update in a config.toml of 10 to
1000 entries), `status` (`containai/status`, `cai status --json` vs the
docker CLI), `run` (attach / start vs `docker start` + readiness check), `warm` (`cai`
with the shared server vs the docker CLI, cold start, 20 racing calls) — these on the
main engine, with a few containers of their own — `live` (event latency, idle cost,
`list` at 10/200/1000 containers) on a private dockerd, and `remote` (an ssh:// context:
one SSH connection vs per-request dial-stdio vs a local engine) on two more. Needs root,
the main engine and the local images (`make setup`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import NoReturn

from bench import (
    bench_cold,
    bench_live,
    bench_remote,
    bench_run,
    bench_state,
    bench_status_suite,
    bench_warm,
)
from bench.common import main_sandbox
from bench.report import Section, document, load_average, machine_facts, write

SECTIONS = ("cold", "state", "status", "run", "warm", "live", "remote")
HERE = Path(__file__).resolve().parent


def _terminate(signum: int, frame: FrameType | None) -> NoReturn:
    """SIGTERM unwinds like Ctrl-C, so containers and the private dockerd are removed."""
    raise SystemExit(128 + signum)


def _announce(section: str) -> None:
    print(f"bench: {section} …", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions, no 1000-container engine (< 2 min)"
    )
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="Markdown file (default: bench/results.md, --quick: bench/results-quick.md)",
    )
    args = parser.parse_args()
    out = args.out or HERE / ("results-quick.md" if args.quick else "results.md")
    signal.signal(signal.SIGTERM, _terminate)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("pygls").setLevel(logging.ERROR)  # pushes this client does not handle

    began, load_start = time.monotonic(), load_average()
    facts = machine_facts()
    sections: list[Section] = []
    if "cold" in args.only:
        _announce("cold")
        sections.append(bench_cold.measure(10 if args.quick else 20))
    if "state" in args.only:
        _announce("state")
        sections.append(bench_state.measure(args.quick))
    on_main = [s for s in ("status", "run", "warm") if s in args.only]
    if on_main:
        with main_sandbox() as box:  # one container per image, shared by these sections
            for name in on_main:
                _announce(name)
                if name == "warm":
                    sections.append(bench_warm.measure(box, args.quick))
                    continue
                suite = bench_status_suite if name == "status" else bench_run
                sections.append(asyncio.run(suite.measure(box, args.quick)))
    if "live" in args.only:
        _announce("live")
        sections.append(asyncio.run(bench_live.measure(args.quick)))
    if "remote" in args.only:
        _announce("remote")
        sections.append(bench_remote.measure(args.quick))
    profile = "quick" if args.quick else "full"
    text = document(
        sections, facts, profile, (load_start, load_average()), time.monotonic() - began
    )
    write(out, text)
    print(text)
    print(f"bench: written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""What a `cai` subcommand is: arguments → one protocol request → human text."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NamedTuple


class UsageError(Exception):
    """Bad command line (exit 1 with a usage hint, like the original)."""


class Command(NamedTuple):
    """One subcommand; `failed(result)` makes a successful reply still exit 1. (A named
    tuple, not a dataclass: `dataclasses` costs `cai` milliseconds of start-up.)"""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    request: Callable[[argparse.Namespace], tuple[str, dict[str, Any]]]
    render: Callable[[dict[str, Any]], str]
    long_running: bool = False
    interactive: bool = False
    failed: Callable[[dict[str, Any]], bool] = lambda _result: False
    after: Callable[[dict[str, Any]], None] | None = None
    """Runs with the result once it is printed; may replace the process (`cai shell`)."""
    json_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """`--json` output for a command the original also has (its schema); None: the result."""
    takes_config: bool = False
    """Accepts `--config FILE` (the commands where the original has it)."""
    opens_session: Callable[[argparse.Namespace], bool] = lambda _args: False
    """Whether this invocation runs the result's `session` (`cli/commands/sessions.py`) instead of
    printing: its exit status is the session's."""
    takes_command: bool = False
    """Accepts `-- CMD ARGS...` (as `args.command_argv`)."""


def params(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """camelCase params from the given argparse fields, leaving unset ones out."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(args, name, None)
        if value not in (None, False):
            head, *rest = name.split("_")
            out[head + "".join(w.title() for w in rest)] = value
    return out


def target_arguments(p: argparse.ArgumentParser) -> None:
    """`--container NAME | --workspace DIR`, shared by every single-container command."""
    p.add_argument("--container", help="container name")
    p.add_argument("--workspace", "-w", help="workspace directory (default: current)")

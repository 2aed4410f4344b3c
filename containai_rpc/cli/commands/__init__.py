"""The `cai` subcommands: each module contributes `Command`s to its `COMMANDS`.

`cai` imports only the module of the command it runs (`command`): the others cost start-up
time on every call. `all_commands` (for `cai --help`) imports them all."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from containai_rpc.cli.commands.base import Command

MODULES: dict[str, str] = {
    "run": "lifecycle",
    "exec": "lifecycle",
    "stop": "lifecycle",
    "status": "inspect",
    "list": "inspect",
    "postpone": "inspect",
    "config": "config",
    "gc": "gc",
    "keep": "gc",
    "shell": "ssh",
    "ssh": "ssh",
    "doctor": "doctor",
    "export": "backup",
    "import": "backup",
}
"""Each subcommand's module, in `cai --help` order."""


def command(name: str) -> Command:
    """The subcommand `name` (a key of MODULES), importing its module only."""
    module = import_module(f"{__name__}.{MODULES[name]}")
    return next(c for c in module.COMMANDS if c.name == name)


def all_commands() -> tuple[Command, ...]:
    return tuple(command(name) for name in MODULES)

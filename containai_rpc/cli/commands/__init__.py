"""The `cai` subcommands: each module contributes `Command`s to `COMMANDS`."""

from __future__ import annotations

from containai_rpc.cli.commands import backup, config, doctor, gc, inspect, lifecycle, ssh
from containai_rpc.cli.commands.base import Command

COMMANDS: tuple[Command, ...] = (
    *lifecycle.COMMANDS,
    *inspect.COMMANDS,
    *config.COMMANDS,
    *gc.COMMANDS,
    *ssh.COMMANDS,
    *doctor.COMMANDS,
    *backup.COMMANDS,
)

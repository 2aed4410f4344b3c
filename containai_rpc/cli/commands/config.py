"""`cai config get KEY`: `value<TAB>source`, like the original."""

from __future__ import annotations

import argparse
from typing import Any

from containai_rpc.cli.commands.base import Command, UsageError, params


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["get"], help="only 'get' for now")
    p.add_argument("key", help="e.g. data_volume")
    p.add_argument("--workspace", "-w", help="workspace directory (default: current)")


def _request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    if args.action != "get":
        raise UsageError(f"unknown config action: {args.action}")
    return "containai/configGet", params(args, "key", "workspace")


def render(r: dict[str, Any]) -> str:
    if r.get("value") is None:
        return ""
    return f"{r['value']}\t{r.get('source') or ''}"


COMMANDS = (Command("config", "read settings (config get KEY)", _args, _request, render),)

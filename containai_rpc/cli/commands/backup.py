"""`cai export` and `cai import`: a data volume to a .tgz file and back."""

from __future__ import annotations

import argparse
import os
from typing import Any

from containai_rpc.cli.commands.base import Command, params, target_arguments


def _export_args(p: argparse.ArgumentParser) -> None:
    target_arguments(p)
    p.add_argument("-o", "--output", required=True, help="the .tgz file to write")
    p.add_argument("--data-volume", help="export this volume instead of a container's")
    p.add_argument("--image", help="local image for the helper container")
    p.add_argument("--force", action="store_true", help="replace an existing output file")


def _export_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    args.output = os.path.abspath(args.output)
    return "containai/export", params(
        args, "output", "container", "workspace", "data_volume", "image", "force", "context"
    )


def render_export(r: dict[str, Any]) -> str:
    size = r["bytes"] / 2**20
    return (
        f"Exported {r['dataVolume']}: {r['files']} files, {size:.1f} MiB -> {r['path']} "
        f"({r['archiveBytes'] / 2**20:.1f} MiB)"
    )


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="input", required=True, help="the .tgz file made by export")
    p.add_argument("--data-volume", help="target volume (default: the exported one)")
    p.add_argument("--image", help="local image for the helper container")
    p.add_argument("--force", action="store_true", help="import into a non-empty volume")


def _import_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    args.input = os.path.abspath(args.input)
    return "containai/import", params(args, "input", "data_volume", "image", "force", "context")


def render_import(r: dict[str, Any]) -> str:
    made = "new volume" if r["created"] else "volume"
    return (
        f"Imported {r['files']} files ({r['bytes'] / 2**20:.1f} MiB) into {made} {r['dataVolume']}"
    )


COMMANDS = (
    Command(
        "export",
        "write a container's data volume to a .tgz file",
        _export_args,
        _export_request,
        render_export,
        long_running=True,
    ),
    Command(
        "import",
        "restore a .tgz made by export into a new or empty data volume",
        _import_args,
        _import_request,
        render_import,
        long_running=True,
    ),
)

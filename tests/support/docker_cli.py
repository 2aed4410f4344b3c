"""The real docker CLI and `cai --json` as the context tests drive them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def create_context(config: Path, name: str, host: str) -> None:
    """`docker --config <dir> context create <name> --docker host=<host>`: the real CLI."""
    subprocess.run(
        ["docker", "--config", str(config), "context", "create", name, "--docker", f"host={host}"],
        check=True,
        capture_output=True,
    )


def cai_json(sandbox: Any, *args: str, cwd: Path | None = None) -> Any:
    """`cai <command> --json <args…>`: right after the command, so it stays before a `--`."""
    proc = sandbox.cai(args[0], "--json", *args[1:], cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)

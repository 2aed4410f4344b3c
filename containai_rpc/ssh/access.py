"""Per-container SSH access files: the host config in ~/.ssh/containai.d."""

from __future__ import annotations

import os
from pathlib import Path


def host_config_dir() -> Path:
    return Path(os.environ.get("HOME") or Path.home()) / ".ssh" / "containai.d"


def remove_access(name: str, port: int | None) -> None:
    """Forget a removed container: its host config file (known_hosts: see ssh.known_hosts)."""
    (host_config_dir() / f"{name}.conf").unlink(missing_ok=True)

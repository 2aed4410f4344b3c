"""What every section needs: a sandbox on the main engine and a private engine.

- `main_sandbox()`: a private HOME/XDG (never the user's config or ~/.ssh) and a unique data
  volume, set in `os.environ` because the server and `cai` inherit it; on exit every
  container on that volume and the volume itself are removed and the environment restored.
  For the few containers a section needs on the machine's main engine.
- `private_engine()`: a dockerd of our own (tests/support/engines.py's `Daemon`: own socket,
  data-root and network namespace) with the tiny image loaded, for anything that floods
  the engine (1000 containers) or needs it idle. The main daemon is never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bench_events import TINY_IMAGE, remove_daemon
from bench.bench_status import IMAGE as SSHD_IMAGE
from bench.bench_status import sandbox_env

ROOT = Path(__file__).resolve().parents[1]
# Workspace labels on the main engine, shared by the status and run sections (one
# container per image, created by whichever section needs it first).
WORKSPACES = {SSHD_IMAGE: "bst", TINY_IMAGE: "btn"}


@dataclass(frozen=True)
class MainSandbox:
    """Where a main-engine section's workspaces live; `token` makes their names unique."""

    root: Path
    volume: str
    token: str

    def workspace(self, label: str) -> Path:
        """A folder whose container will be called `{label}{token}-nogit` (unique)."""
        path = self.root / "ws" / f"{label}{self.token}"
        path.mkdir(parents=True, exist_ok=True)
        return path


@contextlib.contextmanager
def main_sandbox() -> Iterator[MainSandbox]:
    token = uuid.uuid4().hex[:6]
    root = Path(tempfile.mkdtemp(prefix="cai-bench-"))
    box = MainSandbox(root=root, volume=f"cai-bench-{token}", token=token)
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(("CONTAINAI_", "XDG_"))]:
        del os.environ[key]
    os.environ.update(sandbox_env(root, box.volume))
    try:
        yield box
    finally:
        os.environ.clear()
        os.environ.update(saved)
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=containai.data-volume={box.volume}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        subprocess.run(["docker", "volume", "rm", box.volume], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def private_engine() -> Iterator[Any]:
    """A started private dockerd (`.host` is its `unix://` address), removed afterwards."""
    from tests.support.engines import Daemon

    token = uuid.uuid4().hex[:8]
    base = Path(f"/tmp/cai-d-{token}")  # short: unix socket paths are limited to 108 bytes
    daemon = Daemon(root=base, host=f"unix://{base}/d.sock", netns=f"cai-{token}")
    print(f"bench: private dockerd in {base} (netns {daemon.netns})", file=sys.stderr)
    try:
        daemon.start()
        daemon.load_image(TINY_IMAGE)
        yield daemon
    finally:
        daemon.stop()  # first: its containers then go with the data-root, not one by one
        remove_daemon(daemon)

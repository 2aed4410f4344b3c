"""Fixtures of the context tests: a private docker CLI config for the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def docker_config(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private docker CLI config folder, without config.json (the SDK misses contexts
    there; we must not), and no DOCKER_HOST/DOCKER_CONTEXT from the outer environment."""
    path = sandbox.root / "dockercfg"
    path.mkdir()
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        sandbox.env.pop(var, None)
        monkeypatch.delenv(var, raising=False)
    sandbox.env["DOCKER_CONFIG"] = str(path)
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    return path

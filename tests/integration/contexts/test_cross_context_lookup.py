"""Lookups across contexts on real engines: the main engine (context `default`, selected)
and a private dockerd (context `engine-b`), both managed. A container that lives on B is found
by `run --container`, and by a workspace's `run`, `status` and `stop`, from A; nothing is
created on A."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.engine


@pytest.fixture
def docker_config(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private docker CLI config folder; `default` is then the main engine's socket."""
    path = sandbox.root / "dockercfg"
    path.mkdir()
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        sandbox.env.pop(var, None)
        monkeypatch.delenv(var, raising=False)
    sandbox.env["DOCKER_CONFIG"] = str(path)
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    return path


def cai_json(sandbox: Any, *args: str, cwd: Path) -> Any:
    proc = sandbox.cai(*args, "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_container_on_b_is_found_from_a(sandbox, docker_config, dedicated_engine):
    host = f"host={dedicated_engine.host}"
    subprocess.run(
        [
            "docker",
            "--config",
            str(docker_config),
            "context",
            "create",
            "engine-b",
            "--docker",
            host,
        ],
        check=True,
        capture_output=True,
    )
    with sandbox.config_file.open("a") as f:
        f.write('\n[engine]\ncontexts = ["engine-b"]\n')
    b = dedicated_engine.client()
    name = f"x-{sandbox.volume[-10:]}"
    ws = sandbox.workspace("far")
    try:
        made = cai_json(sandbox, "run", "--container", name, "--context", "engine-b", cwd=ws)
        assert (made["action"], made["context"]) == ("create", "engine-b")

        ran = cai_json(sandbox, "run", "--container", name, cwd=ws)
        assert (ran["action"], ran["context"], ran["containerName"]) == ("attach", "engine-b", name)
        assert ran["container"]["id"] == made["container"]["id"]
        assert sandbox.containers() == []  # nothing on the main engine (A)
        assert not sandbox.client.containers.list(all=True, filters={"name": f"^{name}$"})

        by_workspace = cai_json(sandbox, "run", cwd=ws)
        assert (by_workspace["action"], by_workspace["context"]) == ("attach", "engine-b")
        assert by_workspace["containerName"] == name
        status = cai_json(sandbox, "status", cwd=ws)
        assert (status["container"], status["context"]) == (name, "engine-b")
        [stopped] = cai_json(sandbox, "stop", cwd=ws)["results"]
        assert (stopped["containerName"], stopped["context"], stopped["action"]) == (
            name,
            "engine-b",
            "stopped",
        )
        assert sandbox.containers() == []
        assert [c.name for c in b.containers.list(all=True)] == [name]
        assert 'context = "engine-b"' in sandbox.config_file.read_text()
    finally:
        b.close()

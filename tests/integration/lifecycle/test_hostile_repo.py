"""A hostile repository on the real engine, through the real `cai`: its config may not
mount someone else's volume without approval, `/` and $HOME are refused as workspaces, and
a bad resource value never costs the existing container."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.engines import TINY_IMAGE
from tests.support.terminal import cai_on_pty

pytestmark = pytest.mark.engine


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _write_repo_config(ws: Path, text: str) -> None:
    (ws / ".containai").mkdir()
    (ws / ".containai" / "config.toml").write_text(text)


def _victim_volume(sandbox: Any) -> str:
    """A volume made with plain docker (no ContainAI label) holding someone's token."""
    victim = f"{sandbox.volume}-victim"
    sandbox.client.volumes.create(victim)  # plain docker: no ContainAI label
    sandbox.client.containers.run(
        TINY_IMAGE,
        ["sh", "-c", "echo secret > /v/token"],
        volumes={victim: {"bind": "/v", "mode": "rw"}},
        remove=True,
    )
    return victim


def test_a_repository_cannot_mount_a_foreign_volume_without_approval(sandbox):
    victim = _victim_volume(sandbox)
    ws = sandbox.workspace("hostile")
    _write_repo_config(ws, f'[agent]\ndata_volume = "{victim}"\n')
    before = sandbox.config_file.read_bytes()

    refused = sandbox.cai("run", cwd=ws)
    assert refused.returncode == 1, refused.stdout
    assert victim in refused.stderr and "--approve-volume" in refused.stderr
    assert sandbox.containers() == []
    assert sandbox.config_file.read_bytes() == before

    approved = _json(sandbox.cai("run", "--approve-volume", "--json", cwd=ws))
    assert (approved["action"], approved["dataVolume"]) == ("create", victim)
    [container] = sandbox.containers()
    mounts = {m["Destination"]: m.get("Name") for m in container.attrs["Mounts"]}
    assert mounts["/mnt/agent-data"] == victim
    code, out = container.exec_run(["cat", "/mnt/agent-data/token"])
    assert (code, out.strip()) == (0, b"secret")
    assert f'data_volume = "{victim}"' in sandbox.config_file.read_text()


@pytest.mark.parametrize("target", ["root", "link", "home"])
def test_root_and_home_are_refused_as_workspaces(sandbox, target: str):
    link = sandbox.root / "to-root"
    link.symlink_to("/")
    path = {"root": "/", "link": str(link), "home": str(sandbox.home)}[target]
    before = sandbox.config_file.read_bytes()
    refused = sandbox.cai("run", path)
    assert refused.returncode == 1
    assert "Refusing workspace" in refused.stderr
    assert "--allow-system-workspace" in refused.stderr
    for workspace in ("/", str(sandbox.home)):
        label = f"containai.workspace={workspace}"
        assert sandbox.client.containers.list(all=True, filters={"label": label}) == []
    assert sandbox.containers() == []
    assert sandbox.config_file.read_bytes() == before


@pytest.mark.parametrize("line", ["cpus = inf", 'memory = "1t"', 'memory = "0"', "cpus = 1e-300"])
def test_a_bad_resource_value_keeps_the_old_container_under_fresh(sandbox, line: str):
    ws = sandbox.workspace("limits")
    first = _json(sandbox.cai("run", "--json", cwd=ws))
    with sandbox.config_file.open("a") as f:
        f.write(f"\n[container]\n{line}\n")
    refused = sandbox.cai("run", "--fresh", "--json", cwd=ws)
    assert refused.returncode == 1
    assert "container." in refused.stderr and "Traceback" not in refused.stderr
    assert "not reachable" not in refused.stderr
    [container] = sandbox.containers()
    assert container.id == first["container"]["id"] and container.status == "running"


def test_a_repository_cannot_lift_the_users_memory_limit(sandbox):
    ws = sandbox.workspace("tight")
    with sandbox.config_file.open("a") as f:
        f.write('\n[container]\nmemory = "256m"\n')
    _write_repo_config(ws, '[container]\nmemory = "8g"\n')
    _json(sandbox.cai("run", "--json", cwd=ws))
    [container] = sandbox.containers()
    assert container.attrs["HostConfig"]["Memory"] == 256 * 2**20


def test_on_a_terminal_cai_asks_before_using_a_repositorys_volume(sandbox):
    """As git asks before trusting a repository: EOF changes nothing, yes approves."""
    victim = _victim_volume(sandbox)
    ws = sandbox.workspace("asks")
    _write_repo_config(ws, f'[agent]\ndata_volume = "{victim}"\n')
    before = sandbox.config_file.read_bytes()

    code, screen = cai_on_pty(sandbox, ws, "run", answer=b"\x04")  # Ctrl-D
    assert code == 0, screen
    assert f"Use data volume '{victim}' for this workspace? [y/N]" in screen
    assert "Cancelled." in screen
    assert sandbox.containers() == []
    assert sandbox.config_file.read_bytes() == before

    code, screen = cai_on_pty(sandbox, ws, "run", answer=b"y\n")
    assert code == 0, screen
    [container] = sandbox.containers()
    mounts = {m["Destination"]: m.get("Name") for m in container.attrs["Mounts"]}
    assert mounts["/mnt/agent-data"] == victim
    assert f'data_volume = "{victim}"' in sandbox.config_file.read_text()

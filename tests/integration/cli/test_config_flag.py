"""`cai run --config FILE`: FILE replaces the user config for that call (real engine)."""

from __future__ import annotations

import json
import tomllib

import pytest

pytestmark = pytest.mark.engine


def test_config_file_replaces_the_user_config_for_settings_and_state(sandbox):
    ws = sandbox.workspace("cfg")
    other = sandbox.root / "other.toml"
    volume = f"{sandbox.volume}-other"
    sandbox.extra_volumes.add(volume)
    other.write_text(f'[agent]\ndata_volume = "{volume}"\n')

    plain = sandbox.cai("run", "--dry-run", "--json", cwd=ws)
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["dataVolume"] == sandbox.volume

    dry = sandbox.cai("run", "--dry-run", "--json", "--config", str(other), cwd=ws)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["dataVolume"] == volume

    real = sandbox.cai("run", "--json", "--config", str(other), cwd=ws)
    assert real.returncode == 0, real.stderr
    result = json.loads(real.stdout)
    assert result["dataVolume"] == volume
    # the workspace state went to FILE; the user config is untouched
    state = tomllib.loads(other.read_text())["workspace"][str(ws)]
    assert state["container_name"] == result["containerName"]
    assert "[workspace." not in sandbox.config_file.read_text()


def test_missing_config_file_is_an_error_and_changes_nothing(sandbox):
    ws = sandbox.workspace("nocfg")
    proc = sandbox.cai("run", "--config", str(sandbox.root / "missing.toml"), cwd=ws)
    assert proc.returncode == 1
    assert "Config file not found" in proc.stderr
    assert sandbox.containers() == []

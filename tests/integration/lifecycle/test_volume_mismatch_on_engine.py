"""A data-volume mismatch on the real engine, through the real `cai`: a volume changed in
the config warns and attaches (the mismatch is data in `run` and `status`); a volume
given with --data-volume is refused in the original's words, and nothing changes."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

pytestmark = pytest.mark.engine


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_configured_volume_warns_an_explicit_one_is_refused(sandbox):
    ws = sandbox.workspace("vm")
    first = _json(sandbox.cai("run", "--json", cwd=ws))
    name, mounted = first["containerName"], sandbox.volume
    assert first["dataVolume"] == mounted and "volumeMismatch" not in first

    # `[agent] data_volume` changes; the workspace state names no volume.
    other = f"{sandbox.volume}-b"
    sandbox.config_file.write_text(
        f'[agent]\ndata_volume = "{other}"\n\n[workspace."{ws}"]\ncontainer_name = "{name}"\n'
    )
    expected = {"mounted": mounted, "requested": other, "source": "user-global"}
    status = _json(sandbox.cai("status", "--json", cwd=ws))
    assert status["volume_mismatch"] == expected  # an extra key of ours in the original's object
    human = sandbox.cai("status", cwd=ws)
    assert f"Data volume mismatch: mounted {mounted}, requested {other}" in human.stdout

    second = _json(sandbox.cai("run", "--json", cwd=ws))
    assert (second["action"], second["containerName"]) == ("attach", name)
    assert second["container"]["id"] == first["container"]["id"]
    assert (second["dataVolume"], second["dataVolumeSource"]) == (mounted, "container")
    assert second["volumeMismatch"] == expected
    assert any(w.startswith("Data volume mismatch:") for w in second["warnings"])
    assert not any(v.name == other for v in sandbox.client.volumes.list())

    refused = sandbox.cai("run", "--data-volume", other, "--json", cwd=ws)
    assert refused.returncode == 1
    assert "[ERROR] Data volume mismatch:" in refused.stderr
    assert "Volume mismatch prevents attachment." in refused.stderr
    assert "--fresh" in refused.stderr
    [container] = sandbox.containers()
    assert container.id == first["container"]["id"] and container.status == "running"
    assert not any(v.name == other for v in sandbox.client.volumes.list())

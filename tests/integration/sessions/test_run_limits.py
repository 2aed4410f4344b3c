"""`--memory` and `--cpus` on the real engine: applied when the container is created,
visible in `docker inspect` and in `cai status`, and a different request for an existing
container is a warning naming `--fresh`, which then applies them (the volume kept)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.engine


def test_memory_and_cpus_show_in_inspect_and_status_and_fresh_changes_them(sandbox):
    ws = sandbox.workspace("limits")
    made = sandbox.cai("run", "--json", "--memory", "1g", "--cpus", "1", cwd=ws)
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    host = sandbox.client.api.inspect_container(result["containerName"])["HostConfig"]
    assert (host["Memory"], host["MemorySwap"], host["NanoCpus"]) == (2**30, 2**30, 10**9)
    assert (result["container"]["memoryLimitBytes"], result["container"]["cpus"]) == (2**30, 1)
    status = sandbox.cai("status", cwd=ws)
    assert "  Limits: memory 1g, cpus 1\n" in status.stdout, status.stdout

    again = sandbox.cai("run", "--json", "--memory", "512m", cwd=ws)
    warned = json.loads(again.stdout)
    assert warned["action"] == "attach"
    assert any("memory 512m" in w and "fresh" in w for w in warned["warnings"]), warned
    host = sandbox.client.api.inspect_container(result["containerName"])["HostConfig"]
    assert host["Memory"] == 2**30  # an existing container keeps its limits
    same = json.loads(sandbox.cai("run", "--json", "--memory", "1g", cwd=ws).stdout)
    assert not same.get("warnings")

    fresh = sandbox.cai("run", "--json", "--fresh", "--memory", "512m", "--cpus", "0.5", cwd=ws)
    assert json.loads(fresh.stdout)["action"] == "recreate", fresh.stderr
    host = sandbox.client.api.inspect_container(result["containerName"])["HostConfig"]
    assert (host["Memory"], host["NanoCpus"]) == (2**29, 5 * 10**8)
    assert "  Limits: memory 0.5g, cpus 0.5\n" in sandbox.cai("status", cwd=ws).stdout


def test_bad_limits_are_clear_errors_that_change_nothing(sandbox):
    ws = sandbox.workspace("badlimits")
    for args, words in (
        (("--memory", "lots"), "memory"),
        (("--memory", "1m"), "between 6m and 16384g"),
        (("--cpus", "0"), "cpus"),
        (("--cpus", "many"), "--cpus"),
        (("--cpus", "4096"), "cpus"),
    ):
        proc = sandbox.cai("run", *args, cwd=ws)
        assert proc.returncode == 1, (args, proc.stdout)
        assert "[ERROR] " in proc.stderr and words in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert sandbox.containers() == []

"""The `sysbox-runc` branch, end to end, on a dedicated engine whose `sysbox-runc` is runc.

Sysbox cannot be installed on the test hosts, so every other real-engine test opts in to
reduced isolation and runs the runc branch. Here the engine registers a runtime NAMED
`sysbox-runc` (`dockerd --add-runtime sysbox-runc=<runc>`): doctor, `run`, `status` and
`list` then take the branch real users get, with no reduced-isolation opt-in, and the
test checks what we ask Docker for on that branch: runtime `sysbox-runc`, no
`CAP_SYS_ADMIN`, no private cgroup namespace, no tmpfs on /run.

What it cannot prove: the container really runs under runc, so there is no user-namespace
isolation and none of Sysbox's behaviour (systemd without privileges, procfs/sysfs
virtualisation, inner Docker). It proves only that our side of the Sysbox path works.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

pytestmark = pytest.mark.engine


def _json(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_the_sysbox_branch_with_a_renamed_runc(sandbox, dedicated_engine_factory):
    runc = shutil.which("runc")
    assert runc, "runc is needed to stand in for sysbox-runc"
    daemon = dedicated_engine_factory(runtimes={"sysbox-runc": runc})
    sandbox.env.pop("CONTAINAI_ALLOW_REDUCED_ISOLATION")
    sandbox.env["DOCKER_HOST"] = daemon.host
    ws = sandbox.workspace("boxed")

    doctor = _json(sandbox.cai("doctor", "--json"))
    assert doctor["isolation"] == "sysbox"
    runtime = {c["id"]: c for c in doctor["checks"]}["isolation.runtime"]
    assert runtime["status"] == "ok" and runtime["detail"].startswith("sysbox-runc"), runtime

    ran = _json(sandbox.cai("run", "--json", cwd=ws))
    assert (ran["action"], ran["state"], ran["isolation"]) == ("create", "running", "sysbox")

    client = daemon.client()
    [container] = client.containers.list(all=True)
    host = container.attrs["HostConfig"]
    assert host["Runtime"] == "sysbox-runc"
    assert "SYS_ADMIN" not in (host.get("CapAdd") or [])
    assert "CAP_SYS_ADMIN" not in (host.get("CapAdd") or [])
    assert host.get("CgroupnsMode") != "private"
    assert not host.get("Tmpfs")
    assert not host.get("Privileged")

    status = _json(sandbox.cai("status", "--json", cwd=ws))
    assert (status["container"], status["isolation"]) == (container.name, "sysbox")
    listed = _json(sandbox.cai("list", "--json"))
    assert [c["name"] for c in listed["containers"]] == [container.name]

    removed = _json(sandbox.cai("stop", "--remove", "--json", cwd=ws))
    assert [r["action"] for r in removed["results"]] == ["removed"]
    client.close()

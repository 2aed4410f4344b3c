"""Status on the real engine: `status` with every field, under one deadline."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from containai_rpc.engine.stats import host_layout, read_host, sample_inside
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import ListParams, RunParams, StatusParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import Service
from containai_rpc.service.status import DEADLINE_S
from containai_rpc.workspace.state import read_workspace_state
from tests.support.ssh_session import authorize_key, open_session, wait_sshd
from tests.support.waiting import poll

pytestmark = pytest.mark.engine

SYSTEMD_IMAGE = "containai:latest"
TINY_IMAGE = "containai-test-tiny:latest"


def use_image(sandbox: Any, monkeypatch: pytest.MonkeyPatch, image: str) -> None:
    sandbox.env["CONTAINAI_IMAGE"] = image
    monkeypatch.setenv("CONTAINAI_IMAGE", image)


def status(svc: Service, **params: Any) -> dict[str, Any]:
    return svc.status(StatusParams(**params)).wire()


@pytest.fixture
def svc(sandbox: Any) -> Iterator[Service]:
    """An in-process service (one ResourceMonitor across calls, like one server)."""
    service = Service()
    yield service
    service.close()


def run(svc: Service, ws: Path) -> str:
    result = svc.run(RunParams(workspace=str(ws)))
    assert result.state == "running"
    return result.container_name


# --------------------------------------------------------------------------- required fields


def test_stopped_container_has_required_fields_only(sandbox, svc):
    ws = sandbox.workspace("quiet")
    name = run(svc, ws)
    svc.stop(StopParams(workspace=str(ws)))
    result = status(svc, container=name)
    assert status(svc, workspace=str(ws)) == result
    assert result["name"] == name
    assert result["status"] == "stopped"
    assert result["dockerState"] == "exited"
    assert result["image"] == TINY_IMAGE
    for best_effort in ("uptime", "sessions", "sessionsKnown", "resources", "partial"):
        assert best_effort not in result


def test_found_by_label_when_the_state_file_has_no_entry(sandbox, svc):
    ws = sandbox.workspace("unlisted")
    name = run(svc, ws)
    sandbox.config_file.write_text(f'[agent]\ndata_volume = "{sandbox.volume}"\n')
    assert read_workspace_state(str(ws)).container_name in (None, "")
    result = status(svc, workspace=str(ws))
    assert result["name"] == name
    assert result["status"] == "running"
    cli = sandbox.cai("status", cwd=ws)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith(f"Container: {name}\n  Status: running\n")


def test_unknown_container_is_a_domain_error(sandbox, svc):
    with pytest.raises(DomainError) as err:
        svc.status(StatusParams(container=f"nope-{uuid.uuid4().hex[:8]}"))
    assert err.value.reason == "containerNotFound"


# --------------------------------------------------------------------------- best effort


def test_running_container_has_every_field_like_docker_stats(sandbox, svc, docker_client):
    ws = sandbox.workspace("busy")
    name = run(svc, ws)
    result = status(svc, workspace=str(ws))
    assert result["status"] == "running"
    assert result["uptime"] == "0m"
    assert result["sessionsKnown"] is True
    assert result["sessions"] == {"sshConnections": 0, "activeTerminals": 0}
    assert "partial" not in result
    res = result["resources"]
    assert re.fullmatch(r"[\d.]+[KMG]iB / [\d.]+[KMGT]iB \(\d+%\)", res["memoryText"])

    # The same figures `docker stats` computes (its 2 s call, here only as the reference).
    stats = docker_client.api.stats(name, stream=False)
    mem = stats["memory_stats"]
    docker_used = mem["usage"] - mem["stats"]["total_inactive_file"]
    assert res["memoryLimitBytes"] == mem["limit"]
    assert abs(res["memoryBytes"] - docker_used) < max(docker_used * 0.5, 2 * 1024**2)


def test_cpu_percent_idle_then_burning(sandbox, svc, monkeypatch):
    use_image(sandbox, monkeypatch, SYSTEMD_IMAGE)
    ws = sandbox.workspace("burner")
    name = run(svc, ws)

    def cpu() -> float:
        return status(svc, container=name)["resources"]["cpuPercent"]

    # Boot settles within seconds; an idle container then reads (near) zero.
    [idle] = poll(lambda: [c for c in [cpu()] if c < 5], "idle CPU below 5 %")
    sandbox.client.containers.get(name).exec_run(["sh", "-c", "yes > /dev/null"], detach=True)
    [busy] = poll(lambda: [c for c in [cpu()] if c > 50], "busy CPU above 50 %")
    assert idle < 5 < 50 < busy


def test_inside_reader_agrees_with_the_host_reader(sandbox, svc):
    """The path for engines whose cgroup files we cannot see (remote, VM)."""
    ws = sandbox.workspace("inside")
    name = run(svc, ws)
    engine = svc.engines.get()
    info = engine.require(name)
    layout = host_layout(info.id)
    assert layout is not None, "the local engine's cgroup should be visible here"
    host = read_host(layout)
    inside = sample_inside(engine, info.id, timeout_s=5)
    assert host is not None and inside is not None
    reading, cpu = inside
    assert reading.memory_limit == host.memory_limit
    assert abs(reading.memory_used - host.memory_used) < 2 * 1024**2
    assert reading.cpu_ns >= host.cpu_ns
    assert 0 <= cpu < 50


# --------------------------------------------------------------------------- sessions


def test_ssh_sessions_are_counted_and_drop_to_zero(sandbox, svc, monkeypatch):
    use_image(sandbox, monkeypatch, SYSTEMD_IMAGE)
    ws = sandbox.workspace("sessions")
    result = svc.run(RunParams(workspace=str(ws)))
    name, port = result.container_name, result.container.ssh_port
    assert port is not None
    wait_sshd(port)
    key = authorize_key(sandbox, name)
    assert status(svc, container=name)["sessions"] == {"sshConnections": 0, "activeTerminals": 0}

    sessions = [open_session(key, port, pty=True), open_session(key, port, pty=False)]
    try:

        def both_open() -> dict[str, Any] | None:
            for proc in sessions:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            counts = status(svc, container=name)["sessions"]
            # Connected before logged in: wait for the pty of the first session too.
            return counts if counts["sshConnections"] == 2 and counts["activeTerminals"] else None

        counts = poll(both_open, "two ssh sessions, one with a pty")
        assert counts["sshConnections"] == 2
        assert counts["activeTerminals"] >= 1
    finally:
        for proc in sessions:
            proc.terminate()
            proc.wait(timeout=10)

    poll(
        lambda: (
            status(svc, container=name)["sessions"] == {"sshConnections": 0, "activeTerminals": 0}
        ),
        "sessions to close",
    )


# --------------------------------------------------------------------------- deadline


@pytest.fixture(scope="module")
def hanging_sh_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """The tiny image whose `sh` sleeps once /tmp/hang exists: the session probe
    (`sh -c …`) really hangs in the container, everything else keeps working."""
    tag = f"containai-test-hang-{uuid.uuid4().hex[:8]}:latest"
    script = (
        "#!/bin/busybox sh\\n"
        "[ -e /tmp/hang ] && exec /bin/busybox sleep 600\\n"
        'exec /bin/busybox sh \\"$@\\"\\n'
    )
    dockerfile = (
        f"FROM {TINY_IMAGE}\n"
        f'RUN ["/bin/busybox", "sh", "-c", "rm /bin/sh && printf \'{script}\' > /bin/sh '
        '&& chmod 755 /bin/sh"]\n'
    )
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    yield tag
    docker_client.images.remove(tag, force=True)


def test_a_hanging_part_is_cut_at_the_deadline(sandbox, svc, monkeypatch, hanging_sh_image):
    use_image(sandbox, monkeypatch, hanging_sh_image)
    ws = sandbox.workspace("stuck")
    name = run(svc, ws)
    assert status(svc, container=name)["sessionsKnown"] is True  # sh still works
    code, out = sandbox.client.containers.get(name).exec_run(["touch", "/tmp/hang"])
    assert code == 0, out

    started = time.monotonic()
    result = status(svc, container=name)
    elapsed = time.monotonic() - started

    assert DEADLINE_S <= elapsed < DEADLINE_S + 1
    assert result["partial"] == ["sessions", "idle"]  # one exec reads both
    assert result["sessionsKnown"] is False
    assert "sessions" not in result
    assert (result["name"], result["status"], result["image"]) == (
        name,
        "running",
        hanging_sh_image,
    )
    assert result["uptime"] == "0m"
    assert result["resources"]["memoryBytes"] > 0


# --------------------------------------------------------------------------- CLI and list


def test_cli_human_and_json(sandbox):
    ws = sandbox.workspace("cli")
    assert sandbox.cai("run", cwd=ws).returncode == 0
    human = sandbox.cai("status", cwd=ws)
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    name = lines[0].removeprefix("Container: ")
    assert lines[1:4] == ["  Status: running", "  Uptime: 0m", f"  Image: {TINY_IMAGE}"]
    assert re.fullmatch(r"  Limits: memory \d+g, cpus \d+", lines[4])  # the defaults
    assert lines[5:10] == [
        "",
        "  Sessions (best-effort):",
        "    SSH connections: 0",
        "    Active terminals: 0",
        "",
    ]
    assert lines[10] == "  Resource Usage:"
    assert re.fullmatch(r"    Memory: [\d.]+[KMG]iB / [\d.]+[KMGT]iB \(\d+%\)", lines[11])
    assert re.fullmatch(r"    CPU: \d+\.\d\d%", lines[12])

    by_name = sandbox.cai("status", "--container", name, "--json")
    assert by_name.returncode == 0, by_name.stderr
    result = json.loads(by_name.stdout)
    # the original tool's object
    assert result["container"] == name and result["status"] == "running"
    assert result["sessions"] == {"ssh_connections": 0, "active_terminals": 0}
    assert set(result["resources"]) == {
        "memory_usage",
        "memory_limit",
        "memory_percent",
        "cpu_percent",
    }

    both = sandbox.cai("status", "--container", name, "--workspace", str(ws))
    assert both.returncode == 1
    assert "mutually exclusive" in both.stderr


def _docker_time(value: str) -> str:
    """Docker's `2024-01-15T10:30:45.123456789Z` → the wire's `2024-01-15T10:30:45Z`."""
    assert value.endswith("Z")
    return value[:19] + "Z"


def test_list_times_for_running_stopped_and_created(sandbox, svc, docker_client):
    running = run(svc, sandbox.workspace("running"))
    stopped_ws = sandbox.workspace("stopped")
    stopped = run(svc, stopped_ws)
    svc.stop(StopParams(workspace=str(stopped_ws)))
    created = docker_client.containers.create(
        TINY_IMAGE,
        name=f"created-{uuid.uuid4().hex[:8]}",
        labels={
            "containai.managed": "true",
            "containai.workspace": str(sandbox.workspace("created")),
        },
    ).name

    def listed() -> dict[str, dict[str, Any]]:
        rows = svc.list(ListParams()).wire()["containers"]
        return {c["name"]: c for c in rows if c["name"] in (running, stopped, created)}

    def inspected(name: str) -> dict[str, Any]:
        return docker_client.api.inspect_container(name)

    rows = listed()
    r, s, c = inspected(running), inspected(stopped), inspected(created)
    assert rows[running]["createdAt"] == _docker_time(r["Created"])
    assert rows[running]["startedAt"] == _docker_time(r["State"]["StartedAt"])
    assert "finishedAt" not in rows[running]

    assert rows[stopped]["status"] == "stopped"
    assert rows[stopped]["startedAt"] == _docker_time(s["State"]["StartedAt"])
    assert rows[stopped]["finishedAt"] == _docker_time(s["State"]["FinishedAt"])
    assert rows[stopped]["finishedAt"] >= rows[stopped]["startedAt"]

    assert rows[created]["status"] == "created"
    assert rows[created]["createdAt"] == _docker_time(c["Created"])
    assert "startedAt" not in rows[created] and "finishedAt" not in rows[created]

    # Started again: Docker keeps the old FinishedAt, a running container shows none.
    run(svc, stopped_ws)
    again = listed()[stopped]
    assert again["status"] == "running"
    assert "finishedAt" not in again
    assert again["startedAt"] == _docker_time(inspected(stopped)["State"]["StartedAt"])

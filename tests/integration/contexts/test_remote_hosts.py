"""Remote Docker hosts: ssh:// contexts reached through one SSH connection of the server's.

Every remote here is a private dockerd in its own network namespace behind its own sshd
(`remote_hosts` in conftest.py); the contexts name only `ssh://<host>`, user, address and
port come from the sandbox's ~/.ssh/config, as a user's would.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from containai_rpc.engine import EngineSet
from containai_rpc.engine.contexts import SSH_PROBE_TIMEOUT_S
from tests.support.docker_cli import cai_json
from tests.support.engines import SYSTEMD_IMAGE
from tests.support.lsp_client import start_server, stop_server
from tests.support.pty_session import PtyCai
from tests.support.waiting import poll

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"
STATUS = "containai/engineStatus"
CHANGED = "containai/containerChanged"


def configure(sandbox, text: str) -> None:
    with sandbox.config_file.open("a") as f:
        f.write("\n" + text)


def test_one_connection_serves_every_request(sandbox, remote_hosts):
    remote_hosts("far")
    engines = EngineSet("far")
    try:
        began = time.monotonic()
        engine = engines.get()
        print(f"first connect {time.monotonic() - began:.3f} s")
        tunnel = engines.tunnel("far")
        assert tunnel is not None and tunnel.alive()
        pid = tunnel.pid
        for _ in range(5):
            engine.ping()
            assert engine.list_managed() == []
        assert engines.get() is engine and tunnel.pid == pid
        assert oct(tunnel.socket.parent.stat().st_mode & 0o777) == "0o700"
    finally:
        engines.close()
    assert not tunnel.socket.parent.exists()


def test_a_systemd_container_on_a_remote_host_is_reached_through_it(
    sandbox, docker_config, remote_hosts, monkeypatch
):
    """`run` verifies the start with a key login through the jump; then `ssh <name>`,
    `cai shell` (on a pty) and `cai exec` work, and known_hosts holds the container's real
    key."""
    host = remote_hosts("far", image=SYSTEMD_IMAGE)
    sandbox.env["CONTAINAI_IMAGE"] = SYSTEMD_IMAGE
    monkeypatch.setenv("CONTAINAI_IMAGE", SYSTEMD_IMAGE)
    configure(sandbox, '[secure_engine]\ncontext_name = "far"\n')
    ws = sandbox.workspace("faraway")

    ran = cai_json(sandbox, "run", cwd=ws)
    name, port = ran["containerName"], ran["ssh"]["port"]
    assert (ran["context"], ran["action"]) == ("far", "create")
    assert ran["container"]["host"] == "ssh://far"
    # The port is published on the remote's loopback only: nothing answers here.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0

    conf = (sandbox.home / ".ssh" / "containai.d" / f"{name}.conf").read_text()
    assert "ProxyCommand ssh -F" in conf and "-W 127.0.0.1:%p -- far" in conf

    user_config = str(sandbox.home / ".ssh" / "config")
    login = subprocess.run(
        ["ssh", "-F", user_config, "-o", "BatchMode=yes", name, "whoami"],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (login.returncode, login.stdout) == (0, "agent\n"), login.stderr
    assert (
        subprocess.run(
            ["ssh", "-F", user_config, name, "true"], env=sandbox.env, timeout=30
        ).returncode
        == 0
    )

    remote = host.daemon.client()
    real = remote.containers.get(name).exec_run(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])
    kind, key = real.output.decode().split()[:2]
    known = (sandbox.home / ".config" / "containai" / "known_hosts").read_text().splitlines()
    assert f"[127.0.0.1]:{port} {kind} {key}" in known
    remote.close()

    shell = PtyCai(sandbox, ws, "shell", "--workspace", str(ws))
    try:
        shell.send(b"tty && echo on-$((40+2)) && pwd; exit\n")  # buffered until it reads
        code, seen = shell.wait(), shell.text
    finally:
        shell.close()
    assert code == 0, seen
    assert "/dev/pts/" in seen and "on-42" in seen and "/home/agent/workspace" in seen
    executed = subprocess.run(
        [sys.executable, "-m", "containai_rpc.cli", "exec", "--workspace", str(ws), "--", "pwd"],
        env=sandbox.env,
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (executed.returncode, executed.stdout) == (0, "/home/agent/workspace\n"), executed.stderr

    again = cai_json(sandbox, "run", cwd=ws)  # attach: the fast login check through the jump
    assert (again["action"], again["ssh"]["port"]) == ("attach", port)


def test_an_unknown_host_key_fails_clearly_within_the_probe_timeout(sandbox, remote_hosts):
    remote_hosts("stranger", trusted=False)
    engines = EngineSet("stranger")
    try:
        began = time.monotonic()
        [(context, error)] = engines.each(["stranger"], lambda e: e.context)
        took = time.monotonic() - began
    finally:
        engines.close()
    print(f"unknown host key reported after {took:.2f} s")
    assert context == "stranger" and error.reason == "engineUnavailable"
    assert "the SSH host key of stranger is not known (strict checking)" in error.message
    assert "ssh stranger true" in error.hint
    assert took < SSH_PROBE_TIMEOUT_S
    listed = sandbox.cai("list", "--json", "--context", "stranger")  # the CLI says the same
    assert "host key of stranger is not known" in listed.stdout + listed.stderr


def test_three_hosts_one_container_each(sandbox, docker_config, remote_hosts):
    """list shows each with its host, `stop --all` stops all three, gc sees all three."""
    names = ["h1", "h2", "h3"]
    hosts = {name: remote_hosts(name) for name in names}
    configure(sandbox, '[secure_engine]\ncontext_name = "h1"\n[engine]\ncontexts = ["h2", "h3"]\n')
    made = {}
    for name in names:
        ran = cai_json(sandbox, "run", "--context", name, cwd=sandbox.workspace(f"ws-{name}"))
        made[name] = ran["containerName"]
    listed = cai_json(sandbox, "list")
    assert {(c["name"], c["context"], c["host"]) for c in listed["containers"]} == {
        (made[n], n, f"ssh://{n}") for n in names
    }
    assert "errors" not in listed
    stopped = cai_json(sandbox, "stop", "--all")
    assert {(r["containerName"], r["context"], r["action"]) for r in stopped["results"]} == {
        (made[n], n, "stopped") for n in names
    }
    for name, host in hosts.items():
        client = host.daemon.client()
        assert client.containers.get(made[name]).status == "exited"
        client.close()
    gc = cai_json(sandbox, "gc", "--dry-run", "--age", "0m")
    seen = {c["name"]: c["context"] for c in gc["candidates"]}
    assert seen == {made[n]: n for n in names}

    # One host goes away: the others keep answering, it is an `errors` entry.
    hosts["h2"].kill_sshd()
    listed = cai_json(sandbox, "list")
    assert {c["context"] for c in listed["containers"]} == {"h1", "h3"}
    assert [e["context"] for e in listed["errors"]] == ["h2"]


async def _until(client: Any, method: str, where: Any, timeout: float) -> tuple[Any, float]:
    began = time.monotonic()
    push = await client.expect_push(method, where, timeout=timeout)
    return push.params, push.received_at - began


def test_a_dropped_connection_is_reported_and_comes_back_on_its_own(
    sandbox, docker_config, remote_hosts
):
    """Kill the remote sshd under a running server: engineStatus error within 5 s, the
    other context keeps answering; sshd back: reconnected by itself, with a
    containerChanged for what changed meanwhile."""
    remote_hosts("near")
    far = remote_hosts("far")
    configure(sandbox, '[secure_engine]\ncontext_name = "near"\n[engine]\ncontexts = ["far"]\n')
    a = cai_json(sandbox, "run", cwd=sandbox.workspace("a"))["containerName"]
    b = cai_json(sandbox, "run", "--context", "far", cwd=sandbox.workspace("b"))["containerName"]

    def status_of(context: str, health: str) -> Any:
        return lambda p: p["context"] == context and p["health"] == health

    async def scenario() -> dict[str, float]:
        client = await start_server(sandbox.env)
        try:
            ups: dict[str, Any] = {}
            while len(ups) < 2:  # in either order
                up, _ = await _until(client, STATUS, lambda p: p["health"] == "ok", 20)
                ups[up["context"]] = up
            for context, up in ups.items():
                assert up["endpoint"] == f"ssh://{context}"
                assert "one SSH connection to" in up["connection"]
            far.kill_sshd()
            down, took_down = await _until(client, STATUS, status_of("far", "error"), 10)
            assert "far" in down["message"]
            began = time.monotonic()
            listed = await client.request("containai/list", {})
            took_list = time.monotonic() - began
            assert [c["name"] for c in listed["containers"] if c["context"] == "near"] == [a]
            subprocess.run(
                ["docker", "-H", far.daemon.host, "stop", "-t", "1", b], check=True, timeout=30
            )
            far.start_sshd()
            _, took_up = await _until(client, STATUS, status_of("far", "ok"), 20)
            changed = await client.expect(
                CHANGED, lambda p: p["container"]["name"] == b, timeout=10
            )
            assert changed["container"]["status"] == "stopped"
            assert changed["container"]["host"] == "ssh://far"
            return {"down": took_down, "list": took_list, "up": took_up}
        finally:
            await stop_server(client)

    took = asyncio.run(scenario())
    print("outage: " + ", ".join(f"{k} {v:.2f} s" for k, v in took.items()))
    assert took["down"] < 5
    assert took["list"] < SSH_PROBE_TIMEOUT_S  # the dead host costs the live one nothing


def test_run_status_list_doctor_stop_over_ssh(sandbox, docker_config, remote_hosts):
    host = remote_hosts("remote")
    configure(sandbox, '[secure_engine]\ncontext_name = "remote"\n')
    client = host.daemon.client()
    ws = sandbox.workspace("faraway")

    ran = cai_json(sandbox, "run", cwd=ws)
    name = ran["containerName"]
    assert (ran["context"], ran["action"], ran["isolation"]) == ("remote", "create", "runc-reduced")
    assert {c.name: c.status for c in client.containers.list(all=True)} == {name: "running"}
    status = cai_json(sandbox, "status", cwd=ws)
    assert (status["container"], status["context"], status["status"]) == (name, "remote", "running")
    assert status["host"] == "ssh://remote"
    listed = cai_json(sandbox, "list")
    assert [(c["name"], c["context"]) for c in listed["containers"]] == [(name, "remote")]
    doctor = cai_json(sandbox, "doctor")
    engine_check = next(c for c in doctor["checks"] if c["id"] == "docker.engine")
    assert engine_check["status"] == "ok" and "ssh://remote" in engine_check["detail"]
    stopped = cai_json(sandbox, "stop", cwd=ws)
    assert [(r["containerName"], r["context"], r["action"]) for r in stopped["results"]] == [
        (name, "remote", "stopped")
    ]
    assert client.containers.get(name).status == "exited"
    client.close()


def test_event_stream_and_exec_over_ssh(sandbox, docker_config, remote_hosts):
    """An event window through the SSH connection: delivered, and `close()` ends the
    reader at once; an exec answers with its output and exit code."""
    host = remote_hosts("remote")
    engines = EngineSet("remote")
    engine = engines.get()
    client = host.daemon.client()
    now = time.time_ns()
    stream = engine.events(since_ns=now, until_ns=now + 300 * 10**9)
    seen: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for event in stream:
            seen.put(event.container_id)
        seen.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    labels = {"containai.managed": "true", "containai.workspace": str(sandbox.root / "far")}
    container = client.containers.run(TINY, ["sleep", "600"], labels=labels, detach=True)
    assert seen.get(timeout=30) == container.id
    stream.close()
    reader.join(10)
    assert not reader.is_alive(), "close() left the reader"
    ended = [seen.get_nowait() for _ in range(seen.qsize())]
    assert ended[-1:] == [None], ended  # the iteration ended cleanly, it did not raise
    result = engine.exec(container.id, ["sh", "-c", "echo far; exit 4"])
    assert (result.exit_code, result.output) == (4, "far\n")
    container.remove(force=True)
    engines.close()
    client.close()


def _processes_naming(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_the_ssh_connection_ends_with_its_server_even_when_killed(
    sandbox, docker_config, remote_hosts
):
    remote_hosts("far")
    configure(sandbox, '[secure_engine]\ncontext_name = "far"\n')

    async def scenario() -> str:
        client = await start_server(sandbox.env)
        try:
            up, _ = await _until(client, STATUS, lambda p: p["health"] == "ok", 20)
            socket_path = up["connection"].split("(", 1)[1].split(",", 1)[0]
            assert _processes_naming(socket_path), "no ssh master for the context"
            os.kill(client.server_pid, signal.SIGKILL)
            return socket_path
        finally:
            await stop_server(client)

    socket_path = asyncio.run(scenario())
    poll(lambda: not _processes_naming(socket_path), "the ssh master to end", timeout_s=10)
    shutil.rmtree(Path(socket_path).parent)  # a killed server leaves its runtime folder

"""Remote Docker hosts: ssh:// contexts reached through one SSH connection of the server's.

Every remote here is a private dockerd in its own network namespace behind its own sshd
(`remote_hosts` in conftest.py); the contexts name only `ssh://<host>`, user, address and
port come from the sandbox's ~/.ssh/config, as a user's would.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from containai_rpc.engine import EngineSet
from tests.support.docker_cli import cai_json
from tests.support.engines import SYSTEMD_IMAGE

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"


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


def _on_pty(argv: list[str], env: dict[str, str], cwd: Path, typed: bytes) -> tuple[int, str]:
    """argv with stdin/stdout/stderr on a pty: type `typed` once it runs, read to the end."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    os.write(master, typed)  # the pty buffers it until the shell reads
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the pty
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, seen.decode(errors="replace")


def test_a_systemd_container_on_a_remote_host_is_reached_through_it(
    sandbox, docker_config, remote_hosts, monkeypatch
):
    """`run` verifies the start with a key login through the jump; then `ssh <name>`
    and `cai shell` (on a pty) work, and known_hosts holds the container's real key."""
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
    assert subprocess.run(
        ["ssh", "-F", user_config, name, "true"], env=sandbox.env, timeout=30
    ).returncode == 0

    remote = host.daemon.client()
    real = remote.containers.get(name).exec_run(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])
    kind, key = real.output.decode().split()[:2]
    known = (sandbox.home / ".config" / "containai" / "known_hosts").read_text().splitlines()
    assert f"[127.0.0.1]:{port} {kind} {key}" in known
    remote.close()

    code, seen = _on_pty(
        [sys.executable, "-m", "containai_rpc.cli", "shell", "--workspace", str(ws)],
        sandbox.env,
        ws,
        b"tty && echo on-$((40+2)) && pwd; exit\n",
    )
    assert code == 0, seen
    assert "/dev/pts/" in seen and "on-42" in seen and "/home/agent/workspace" in seen

    again = cai_json(sandbox, "run", cwd=ws)  # attach: the fast login check through the jump
    assert (again["action"], again["ssh"]["port"]) == ("attach", port)

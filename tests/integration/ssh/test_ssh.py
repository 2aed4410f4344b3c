"""SSH access on the real engine with `containai:latest`: SSH access and real start
verification, checked with the real OpenSSH client.

The steps the acceptance names (`cai run`, `cai shell`, `cai ssh cleanup --dry-run`) go
through the real CLI; the others call the service in this process to save the CLI's
start-up. Each test gets a private SSH port range (`[ssh] port_range_start/end` in its
own config), so it cannot collide with containers of other tests sharing the engine.
"""

from __future__ import annotations

import io
import json
import random
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import pytest

from containai_rpc.cli.commands.ssh import render_cleanup
from containai_rpc.errors import DomainError
from containai_rpc.protocol.base import Params
from containai_rpc.protocol.models import RunParams
from containai_rpc.protocol.ssh import SshCleanupParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import Service

pytestmark = pytest.mark.engine

PRODUCT_IMAGE = "containai:latest"
USER_SSH_CONFIG = """# my own ssh settings
Host github.com
    User git   # keep this comment

Host *
    ServerAliveInterval 30
"""
BROKEN_UNIT = """[Unit]
Description=fails on purpose (containai test)
[Service]
Type=oneshot
ExecStart=/bin/false
[Install]
WantedBy=multi-user.target
"""


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def call(operation: str, params: Params, **service_args: Any) -> dict[str, Any]:
    """One operation of the real service in this process (the CLI costs ~1 s of start-up;
    the steps the acceptance names go through `cai`)."""
    service = Service(**service_args)
    try:
        return getattr(service, operation)(params).wire()
    finally:
        service.close()


def run(ws: Path, **params: Any) -> dict[str, Any]:
    return call("run", RunParams(workspace=str(ws), **params))


def run_error(ws: Path, sshd_timeout_s: float | None = None, **params: Any) -> DomainError:
    service_args = {} if sshd_timeout_s is None else {"sshd_timeout_s": sshd_timeout_s}
    with pytest.raises(DomainError) as err:
        call("run", RunParams(workspace=str(ws), **params), **service_args)
    return err.value


@pytest.fixture
def port_range(sandbox) -> tuple[int, int]:
    """A private 30-port SSH range in this sandbox's config."""
    start = random.randrange(20000, 29000)
    with sandbox.config_file.open("a") as f:
        f.write(f"\n[ssh]\nport_range_start = {start}\nport_range_end = {start + 29}\n")
    return start, start + 29


@pytest.fixture
def ssh_box(sandbox, port_range, monkeypatch: pytest.MonkeyPatch):
    """The sandbox on the product image (systemd + sshd), in its private port range."""
    sandbox.env["CONTAINAI_IMAGE"] = PRODUCT_IMAGE
    monkeypatch.setenv("CONTAINAI_IMAGE", PRODUCT_IMAGE)
    return sandbox


def ssh(box, name: str, *command: str) -> subprocess.CompletedProcess[str]:
    """The real OpenSSH client, exactly as a user in that HOME would call it."""
    return subprocess.run(
        ["ssh", "-F", str(box.home / ".ssh" / "config"), name, *command],
        env=box.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )


def _known_hosts(box) -> str:
    path = box.home / ".config" / "containai" / "known_hosts"
    return path.read_text() if path.exists() else ""


def _host_lines(box, port: int) -> list[str]:
    return [line for line in _known_hosts(box).splitlines() if f"]:{port} " in line]


def _include(box) -> str:
    """Our Include line: the folder by its absolute path (ssh's `~` is the passwd home)."""
    return f"Include {box.home}/.ssh/containai.d/*.conf"


def _conf(box, name: str) -> Path:
    return box.home / ".ssh" / "containai.d" / f"{name}.conf"


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_run_gives_ssh_login_fresh_keeps_it_and_remove_forgets_it(ssh_box, port_range):
    box = ssh_box
    user_config = box.home / ".ssh" / "config"
    user_config.parent.mkdir(mode=0o700)
    user_config.write_text(USER_SSH_CONFIG)
    ws, other = box.workspace("shop"), box.workspace("blog")

    first = _json(box.cai("run", "--json", cwd=ws))
    name, port = first["containerName"], first["ssh"]["port"]
    assert first["ssh"] == {
        "host": name,
        "hostname": "127.0.0.1",
        "port": port,
        "user": "agent",
        "command": f"ssh -F {user_config} {name}",
    }
    assert port_range[0] <= port <= port_range[1]
    assert first["container"]["sshPort"] == port
    login = ssh(box, name, "whoami")
    assert (login.returncode, login.stdout, login.stderr) == (0, "agent\n", "")

    # Published on 127.0.0.1 only.
    listening = subprocess.run(
        ["ss", "-tlnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    local = [word for word in listening if word.endswith(f":{port}")]
    assert local and set(local) == {f"127.0.0.1:{port}"}, listening

    # Key and files: modes as the original's, key injected as the agent.
    cfg = box.home / ".config" / "containai"
    assert (_mode(cfg), _mode(cfg / "id_containai"), _mode(cfg / "id_containai.pub")) == (
        0o700,
        0o600,
        0o644,
    )
    assert (_mode(cfg / "known_hosts"), _mode(_conf(box, name))) == (0o600, 0o600)
    assert _mode(_conf(box, name).parent) == 0o700
    c = box.client.containers.get(name)
    code, out = c.exec_run(["stat", "-c", "%a %U", "/home/agent/.ssh/authorized_keys"])
    assert (code, out.decode().strip()) == (0, "600 agent")
    public = (cfg / "id_containai.pub").read_text().split()[1]
    assert public in c.exec_run(["cat", "/home/agent/.ssh/authorized_keys"])[1].decode()

    # A second container: the user's file is kept, the Include added once.
    second = run(other)
    assert second["ssh"]["port"] != port
    assert (
        user_config.read_text()
        == f"Include {box.home}/.ssh/containai.d/*.conf\n\n{USER_SSH_CONFIG}"
    )

    # fresh: new host keys, refreshed known_hosts, no prompt or warning.
    before = _host_lines(box, port)
    fresh = _json(box.cai("run", "--fresh", "--json", cwd=ws))
    assert fresh["action"] == "recreate"
    port = fresh["ssh"]["port"]
    assert _host_lines(box, port) and set(_host_lines(box, port)).isdisjoint(before)
    login = ssh(box, name, "whoami")
    assert (login.returncode, login.stdout, login.stderr) == (0, "agent\n", "")

    # cai shell: attach, then a session in the workspace (stdin is not a tty here).
    shell = box.cai("shell", "--workspace", str(ws), input="whoami; pwd\n")
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines()[-2:] == ["agent", "/home/agent/workspace"]

    # stop --remove: host config and known_hosts entries gone; the other one untouched.
    removed = call("stop", StopParams(workspace=str(ws), remove=True))
    assert removed["results"][0]["action"] == "removed"
    assert not _conf(box, name).exists()
    assert _host_lines(box, port) == []
    assert _conf(box, second["containerName"]).exists()
    assert _host_lines(box, second["ssh"]["port"])
    assert (
        user_config.read_text()
        == f"Include {box.home}/.ssh/containai.d/*.conf\n\n{USER_SSH_CONFIG}"
    )


def test_changed_host_key_taken_port_and_stale_config_cleanup(ssh_box):
    box = ssh_box
    ws, gone_ws = box.workspace("api"), box.workspace("old")
    first = run(ws)
    name, port = first["containerName"], first["ssh"]["port"]
    gone = run(gone_ws)

    # New host keys behind our back: reported, never accepted silently.
    c = box.client.containers.get(name)
    regen = "rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh"
    assert c.exec_run(["sh", "-c", regen])[0] == 0
    known = _known_hosts(box)
    assert run_error(ws).reason == "hostKeyChanged"
    assert _known_hosts(box) == known

    # A stopped container whose port someone else took: recreated on a new port.
    call("stop", StopParams(workspace=str(ws)))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        moved = run(ws)
    assert moved["action"] == "recreate"
    assert moved["ssh"]["port"] != port
    assert any(f"SSH port {port} is in use" in w for w in moved["warnings"])
    login = ssh(box, name, "whoami")
    assert (login.returncode, login.stdout, login.stderr) == (0, "agent\n", "")

    # cleanup: only the config of the container removed behind our back, never a foreign file.
    box.client.containers.get(gone["containerName"]).remove(force=True)
    foreign = _conf(box, "handmade")
    foreign.write_text("Host handmade\n    Port 2222\n")
    stale = {
        "container": gone["containerName"],
        "configFile": str(_conf(box, gone["containerName"])),
        "port": gone["ssh"]["port"],
    }
    live = {"container": name, "configFile": str(_conf(box, name)), "port": moved["ssh"]["port"]}
    dry = _json(box.cai("ssh", "cleanup", "--dry-run", "--json"))
    assert dry == {"removed": [stale], "kept": [live], "dryRun": True}
    assert _conf(box, gone["containerName"]).exists()
    assert render_cleanup(dry).startswith(
        f"[DRY-RUN] Would remove 1 stale SSH config(s):\n  {gone['containerName']}\n"
    )
    done = call("ssh_cleanup", SshCleanupParams())
    assert done == {"removed": [stale], "kept": [live], "dryRun": False}
    assert not _conf(box, gone["containerName"]).exists()
    assert _host_lines(box, gone["ssh"]["port"]) == []
    assert foreign.exists() and _conf(box, name).exists()
    assert ssh(box, name, "true").returncode == 0


def test_cleanup_without_a_reachable_engine_deletes_nothing(ssh_box):
    conf = _conf(ssh_box, "ghost-main")
    conf.parent.mkdir(parents=True)
    conf.write_text("# ContainAI SSH config for container: ghost-main\nHost ghost-main\n")
    ssh_box.env["DOCKER_HOST"] = f"unix://{ssh_box.root}/no-docker.sock"
    done = ssh_box.cai("ssh", "cleanup")
    assert done.returncode == 1
    assert "No Docker engine is reachable" in done.stderr
    assert conf.exists()


def test_five_containers_get_distinct_ports_skipping_a_taken_one(ssh_box, port_range):
    box = ssh_box
    low = port_range[0]
    workspaces = [box.workspace(f"p{i}") for i in range(5)]
    with socket.socket() as squatter, ThreadPoolExecutor(5) as pool:
        squatter.bind(("127.0.0.1", low))
        squatter.listen()
        results = list(pool.map(run, workspaces))
    ports = sorted(r["ssh"]["port"] for r in results)
    assert ports == list(range(low + 1, low + 6))
    for c in box.containers():
        binding = c.attrs["HostConfig"]["PortBindings"]["22/tcp"]
        assert binding == [{"HostIp": "127.0.0.1", "HostPort": c.labels["containai.ssh-port"]}]


def test_image_without_ssh_gets_no_port_and_no_ssh(sandbox):
    ws = sandbox.workspace("tiny")
    result = run(ws)
    assert "ssh" not in result
    [c] = sandbox.containers()
    assert "containai.ssh-port" not in c.labels
    assert not c.attrs["HostConfig"]["PortBindings"]
    assert not (sandbox.home / ".ssh").exists()


@pytest.fixture(scope="module")
def derived_images(docker_client: docker.DockerClient) -> Iterator[dict[str, str]]:
    """Two throwaway images FROM containai:latest: sshd masked, and a unit that fails."""
    token = uuid.uuid4().hex[:8]
    unit = BROKEN_UNIT.replace("\n", "\\n")
    recipes = {
        "no-sshd": "RUN systemctl mask ssh.service ssh.socket",
        "degraded": f"RUN printf '{unit}' > /etc/systemd/system/cai-test-broken.service"
        " && systemctl enable cai-test-broken.service",
    }
    tags = {}
    try:
        for key, step in recipes.items():
            tag = f"containai-test-{key}:{token}"
            dockerfile = f"FROM {PRODUCT_IMAGE}\n{step}\n".encode()
            docker_client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True)
            tags[key] = tag
        yield tags
    finally:
        for tag in tags.values():
            docker_client.images.remove(tag, force=True)


def test_sshd_that_never_answers_fails_with_sshd_timeout_in_time(ssh_box, derived_images):
    ws = ssh_box.workspace("deaf")
    started = time.monotonic()
    err = run_error(ws, sshd_timeout_s=3, image=derived_images["no-sshd"])
    elapsed = time.monotonic() - started
    assert err.reason == "sshdTimeout"
    assert err.message.startswith("sshd in deaf-main did not answer on 127.0.0.1:")
    assert err.message.endswith("within 3 s")
    assert elapsed < 20, elapsed  # the 3 s deadline, not the 30 s default, and no hang


def test_degraded_systemd_is_a_warning_naming_the_failed_unit(ssh_box, derived_images):
    ws = ssh_box.workspace("shaky")
    result = run(ws, image=derived_images["degraded"])
    assert result["warnings"] == [
        "systemd in shaky-main is degraded; failed units: cai-test-broken.service"
    ]
    assert ssh(ssh_box, result["containerName"], "whoami").stdout == "agent\n"

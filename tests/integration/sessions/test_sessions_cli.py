"""Sessions on the real engine with `containai:latest` (systemd, sshd, user agent): `cai`
lands in the agent over SSH, `--` commands, `-e`, `-d`, `cai exec`, exit statuses and the
original's exit code 13 when sshd is gone.

The agent here is a stand-in, `[agent] default = "sh"` (a shell is in every image), so the
tests prove the session path without depending on the agent CLIs of the product image.
"""

from __future__ import annotations

import random
import subprocess
from typing import Any

import pytest

from tests.support.docker_cli import cai_json
from tests.support.pty_session import PtyCai
from tests.support.waiting import poll

pytestmark = pytest.mark.engine

PRODUCT_IMAGE = "containai:latest"
WORKDIR = "/home/agent/workspace"


@pytest.fixture
def box(sandbox, monkeypatch: pytest.MonkeyPatch):
    """The sandbox on the product image, a private SSH port range, `sh` as the agent and
    short SSH retry delays."""
    start = random.randrange(30000, 39000)
    sandbox.config_file.write_text(
        f'[agent]\ndata_volume = "{sandbox.volume}"\ndefault = "sh"\n\n'
        f"[ssh]\nport_range_start = {start}\nport_range_end = {start + 29}\n"
    )
    for key, value in (
        ("CONTAINAI_IMAGE", PRODUCT_IMAGE),
        ("CONTAINAI_SSH_RETRY_DELAY_S", "0.05"),
    ):
        sandbox.env[key] = value
        monkeypatch.setenv(key, value)
    return sandbox


def test_cai_lands_in_the_agent_and_a_second_cai_attaches_a_second_session(box):
    ws = box.workspace("shop")
    first = PtyCai(box, ws)
    second = None
    try:
        first.send(b"echo in-$((40+2)) $(pwd) $(tty)\n")
        first.expect(f"in-42 {WORKDIR} /dev/pts/".encode())
        status = cai_json(box, "status", cwd=ws)  # the original's status JSON
        assert status["status"] == "running"
        second = PtyCai(box, ws)
        second.send(b"echo two-$((1+1))\n")
        second.expect(b"two-2")

        def two_sessions() -> dict[str, Any] | None:
            now = cai_json(box, "status", cwd=ws)
            return now if now["sessions"]["ssh_connections"] == 2 else None

        both = poll(two_sessions, "two SSH sessions in status", 30)
        assert both["sessions"]["active_terminals"] >= 2
        assert both["container"] == status["container"]
        first.send(b"exit 3\n")
        assert first.wait() == 3, first.text
        second.send(b"exit\n")
        assert second.wait() == 0, second.text
    finally:
        first.close()
        if second is not None:
            second.close()


def test_commands_exit_status_env_exec_and_detached(box):
    ws = box.workspace("blog")
    made = cai_json(box, "run", "--", "sh", "-c", "exit 7", cwd=ws)
    session = made["session"]
    assert session["tty"] is False and session["detached"] is False
    assert session["remoteCommand"] == f"cd {WORKDIR} && exec sh -c 'exit 7'"
    # The argv of the answer is what a client runs: its status is the command's.
    direct = subprocess.run(session["argv"], env=box.env, capture_output=True, timeout=60)
    assert direct.returncode == 7, direct.stderr

    seven = box.cai("--", "sh", "-c", "exit 7", cwd=ws)
    assert seven.returncode == 7, seven.stderr
    pwd = box.cai("exec", "--", "pwd", cwd=ws)
    assert (pwd.returncode, pwd.stdout) == (0, f"{WORKDIR}\n"), pwd.stderr
    env = box.cai("-e", "FOO=bar", "--", "sh", "-c", "echo $FOO", cwd=ws)
    assert (env.returncode, env.stdout) == (0, "bar\n"), env.stderr
    spaced = box.cai(
        "exec", "-e", "A=x y", "-e", "B=$HOME", "--", "sh", "-c", 'echo "$A|$B"', cwd=ws
    )
    assert spaced.stdout == "x y|$HOME\n", spaced.stderr
    failing = box.cai("exec", "--", "sh", "-c", "echo out; echo err >&2; exit 4", cwd=ws)
    assert (failing.returncode, failing.stdout) == (4, "out\n")
    assert "err\n" in failing.stderr
    no_tty = box.cai("--", "tty", cwd=ws)
    assert (no_tty.returncode, no_tty.stdout) == (1, "not a tty\n")

    detached = box.cai("-d", "--", "sleep", "300", cwd=ws)
    assert detached.returncode == 0, detached.stderr
    pid = int(detached.stdout)
    c = box.client.containers.get(made["containerName"])
    code, out = c.exec_run(["cat", f"/proc/{pid}/cmdline"])
    assert (code, out.split(b"\0")[:2]) == (0, [b"sleep", b"300"])
    code, out = c.exec_run(["readlink", f"/proc/{pid}/cwd"], user="agent")  # root lacks ptrace
    assert (code, out.decode().strip()) == (0, WORKDIR)

    bad = box.cai("-e", "1BAD=x", "--", "true", cwd=ws)
    assert bad.returncode == 1 and "Invalid environment variable name" in bad.stderr
    nothing = box.cai("exec", cwd=ws)
    assert nothing.returncode == 1 and "give the command after --" in nothing.stderr


def test_a_terminal_session_gets_a_tty_and_its_exit_status(box):
    ws = box.workspace("tty")
    seven = PtyCai(box, ws, "--", "sh", "-c", "tty; exit 7")
    try:
        assert seven.wait() == 7, seven.text
        assert "/dev/pts/" in seven.text
    finally:
        seven.close()


def test_with_sshd_stopped_a_session_exits_13_after_the_retries(box):
    ws = box.workspace("nossh")
    made = cai_json(box, "run", cwd=ws)
    c = box.client.containers.get(made["containerName"])
    code, out = c.exec_run(["systemctl", "stop", "ssh.socket", "ssh.service"])
    assert code == 0, out
    gone = box.cai("--", "true", cwd=ws)
    assert gone.returncode == 13, gone.stderr
    assert "SSH connection failed after 3 attempt(s)" in gone.stderr
    assert "SSH setup failed" in gone.stderr  # the attach's quick check said so first
    code, out = c.exec_run(["systemctl", "start", "ssh.service"])
    assert code == 0, out
    back = box.cai("exec", "--", "echo", "back", cwd=ws)
    assert (back.returncode, back.stdout) == (0, "back\n"), back.stderr


def test_shell_and_agent_run_the_same_argv_builder(box):
    ws = box.workspace("shell")
    shell = box.cai("shell", "--workspace", str(ws), input="echo $0; pwd\n")
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines()[-1] == WORKDIR
    # `--agent NAME` runs that program (here one the image has) instead of the default.
    agent = box.cai("--agent", "bash", cwd=ws, input="echo via-$((6*7)) $0\n")
    assert (agent.returncode, agent.stdout) == (0, "via-42 bash\n"), agent.stderr
    made = cai_json(box, "run", "--", "bash", "-l", cwd=ws)
    assert made["session"]["remoteCommand"] == f"cd {WORKDIR} && exec bash -l"
    assert made["session"]["argv"][-1] == f"cd {WORKDIR} && exec bash -l"

"""`$HOME` is not the login (passwd) home: the connect command `cai run` prints reaches
the container with the real OpenSSH client, even when ~/.ssh/config already had the
`Include ~/.ssh/containai.d/*.conf` line (ssh expands `~` to the passwd home), which is
rewritten in place to name our folder by its absolute path.
"""

from __future__ import annotations

import json
import os
import pwd
import random
import shlex
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

PRODUCT_IMAGE = "containai:latest"
USER_SSH_CONFIG = (
    "# mine\nInclude ~/.ssh/containai.d/*.conf\n\nHost *\n    ServerAliveInterval 30\n"
)


@pytest.fixture
def ssh_box(sandbox, monkeypatch: pytest.MonkeyPatch):
    """The sandbox on the product image (systemd + sshd), in a private 30-port range."""
    start = random.randrange(20000, 29000)
    with sandbox.config_file.open("a") as f:
        f.write(f"\n[ssh]\nport_range_start = {start}\nport_range_end = {start + 29}\n")
    sandbox.env["CONTAINAI_IMAGE"] = PRODUCT_IMAGE
    monkeypatch.setenv("CONTAINAI_IMAGE", PRODUCT_IMAGE)
    return sandbox


def _login(box, command: str) -> subprocess.CompletedProcess[str]:
    """The printed command, run as a user would in that HOME (no agent, no tty)."""
    ssh, *rest = shlex.split(command)
    argv = [ssh, "-o", "BatchMode=yes", *rest, "whoami"]
    return subprocess.run(
        argv,
        env=box.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_printed_ssh_command_reaches_the_container_when_home_is_not_the_login_home(ssh_box):
    box = ssh_box
    assert Path(pwd.getpwuid(os.getuid()).pw_dir).resolve() != box.home.resolve()
    user_config = box.home / ".ssh" / "config"
    user_config.parent.mkdir(mode=0o700)
    user_config.write_text(USER_SSH_CONFIG)
    ws = box.workspace("shop")

    first = box.cai("run", "--json", cwd=ws)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    name = result["containerName"]
    assert result["ssh"]["command"] == f"ssh -F {user_config} {name}"
    include = f"Include {box.home}/.ssh/containai.d/*.conf"
    assert user_config.read_text() == USER_SSH_CONFIG.replace(
        "Include ~/.ssh/containai.d/*.conf", include
    )
    login = _login(box, result["ssh"]["command"])
    assert (login.returncode, login.stdout) == (0, "agent\n"), login.stderr

    # A session (an attach now) runs its argv with that same `-F`, so it works too.
    again = box.cai("exec", "--", "whoami", cwd=ws)
    assert (again.returncode, again.stdout) == (0, "agent\n"), again.stderr

"""ssh:// endpoints as ssh arguments, and the host config that reaches a container
through its engine's host."""

from __future__ import annotations

from pathlib import Path

import pytest

from containai_rpc.engine.sshtunnel import SshDestination
from containai_rpc.errors import DomainError
from containai_rpc.ssh.hostconfig import render_host_config
from containai_rpc.workspace.config import Settings


@pytest.mark.parametrize(
    ("url", "args", "trust"),
    [
        ("ssh://box", ["--", "box"], "ssh box true"),
        ("ssh://me@box", ["--", "me@box"], "ssh me@box true"),
        ("ssh://me@box:2222", ["-p", "2222", "--", "me@box"], "ssh -p 2222 me@box true"),
        ("ssh://10.0.0.7:22/", ["-p", "22", "--", "10.0.0.7"], "ssh -p 22 10.0.0.7 true"),
    ],
)
def test_the_port_comes_from_the_url_only_when_it_names_one(
    url: str, args: list[str], trust: str
) -> None:
    dest = SshDestination.parse(url)
    assert dest.args() == args
    assert dest.trust_command() == trust


@pytest.mark.parametrize(
    "url", ["tcp://box:2375", "ssh://", "ssh://box:notaport", "ssh://box/var/run/x.sock"]
)
def test_what_we_cannot_use_is_refused(url: str) -> None:
    with pytest.raises(DomainError) as caught:
        SshDestination.parse(url)
    assert caught.value.reason == "contextInvalid"


def test_a_remote_container_is_reached_through_its_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # not the login home, no ~/.ssh/config: no -F
    jump = SshDestination.parse("ssh://me@big-box:2222")
    key, known = tmp_path / "id", tmp_path / "known_hosts"
    text = render_host_config("c1", 2400, key, known, Settings(), jump)
    assert "    ProxyCommand ssh -p 2222 -W 127.0.0.1:%p -- me@big-box\n" in text
    assert "    HostName 127.0.0.1\n" in text and "    Port 2400\n" in text
    assert "ProxyCommand" not in render_host_config("c1", 2400, key, known, Settings())

    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Host big-box\n")
    text = render_host_config("c1", 2400, key, known, Settings(), jump)
    assert f"ProxyCommand ssh -F {tmp_path}/.ssh/config -p 2222 -W" in text

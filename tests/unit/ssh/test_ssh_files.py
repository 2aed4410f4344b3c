"""The SSH files on the host: key, host configs, the Include line, known_hosts, ports.

No engine needed; the real `ssh`/`ssh-keygen` binaries check what we write.
"""

from __future__ import annotations

import os
import pwd
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.ssh import hostconfig, keys, known_hosts
from containai_rpc.ssh.access import remove_access
from containai_rpc.ssh.hostconfig import include_line
from containai_rpc.ssh.known_hosts import HostKey
from containai_rpc.ssh.ports import pick_port
from containai_rpc.workspace.config import DEFAULT_SSH_PORT_RANGE, Settings

USER_CONFIG = """# my own settings, keep them
Host work
    HostName work.example.com   # trailing comment
    User me

Host *
    ServerAliveInterval 30
"""
ED_A = HostKey(
    "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)
ED_B = HostKey(
    "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
)
RSA = HostKey("ssh-rsa", "AAAAB3NzaC1yc2EAAAADAQABAAAAgQCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOME and XDG_CONFIG_HOME: nothing here touches the real ~/.ssh."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    yield home


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_conf(name: str, port: int, settings: Settings | None = None) -> Path:
    return hostconfig.write_host_config(
        name,
        port,
        keys.key_path(),
        known_hosts.known_hosts_path(),
        settings or Settings(),
    )


def _ssh_g(config: Path, host: str) -> dict[str, str]:
    """What the real ssh client makes of a config for `host` (no connection)."""
    out = subprocess.run(
        ["ssh", "-G", "-F", str(config), host],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    ).stdout
    return {k: v for k, _, v in (line.partition(" ") for line in out.splitlines())}


def test_default_port_range_is_the_originals() -> None:
    assert DEFAULT_SSH_PORT_RANGE == (2300, 2500)
    assert Settings().ssh_port_range == (2300, 2500)


def test_key_is_created_once_with_private_modes(home: Path) -> None:
    public = keys.ensure_key()
    key = keys.key_path()
    assert public.startswith("ssh-ed25519 ") and public.endswith(" containai")
    assert (_mode(key), _mode(key.with_suffix(".pub")), _mode(key.parent)) == (0o600, 0o644, 0o700)
    assert keys.ensure_key() == public
    key.with_suffix(".pub").unlink()
    assert keys.ensure_key() == public  # derived again from the private key


def test_host_config_has_the_original_options_and_ssh_reads_it(home: Path) -> None:
    settings = Settings(ssh_forward_agent=True, ssh_local_forwards=["8080:localhost:80"])
    conf = _write_conf("myapp-main", 2301, settings)
    text = conf.read_text()
    assert text.startswith("# ContainAI SSH config for container: myapp-main\n")
    assert _mode(conf) == 0o600 and _mode(conf.parent) == 0o700
    seen = _ssh_g(home / ".ssh" / "config", "myapp-main")
    assert seen["hostname"] == "127.0.0.1"
    assert seen["port"] == "2301"
    assert seen["user"] == "agent"
    assert seen["identityfile"] == str(keys.key_path())
    assert seen["userknownhostsfile"] == str(known_hosts.known_hosts_path())
    assert seen["stricthostkeychecking"] == "accept-new"
    assert seen["identitiesonly"] == "yes"
    assert seen["passwordauthentication"] == "no"
    assert seen["forwardagent"] == "yes"
    assert seen["addressfamily"] == "inet"
    assert seen["localforward"] == "8080 [localhost]:80"
    assert _ssh_g(home / ".ssh" / "config", "unrelated")["hostname"] == "unrelated"


def test_an_unchanged_host_config_is_not_rewritten(home: Path) -> None:
    conf = _write_conf("app-main", 2301)
    inode = conf.stat().st_ino
    assert _write_conf("app-main", 2301).stat().st_ino == inode
    assert _write_conf("app-main", 2302).stat().st_ino != inode
    assert "    Port 2302\n" in conf.read_text()


def test_include_line_is_added_once_and_the_users_file_kept_byte_for_byte(home: Path) -> None:
    user_config = home / ".ssh" / "config"
    user_config.parent.mkdir(mode=0o700)
    user_config.write_text(USER_CONFIG)
    for i in range(3):
        _write_conf(f"app-{i}", 2300 + i)
    assert user_config.read_text() == f"{include_line()}\n\n{USER_CONFIG}"
    # Our hosts win over the user's `Host *` because the Include comes first.
    assert _ssh_g(user_config, "app-2")["port"] == "2302"


def test_missing_config_gets_just_the_include_line(home: Path) -> None:
    _write_conf("solo-main", 2300)
    assert (home / ".ssh" / "config").read_text() == f"{include_line()}\n"
    assert _mode(home / ".ssh") == 0o700


def test_include_line_further_down_moves_to_the_top(home: Path) -> None:
    user_config = home / ".ssh" / "config"
    user_config.parent.mkdir(mode=0o700)
    user_config.write_text("Host a\n  User b\ninclude   ~/.ssh/containai.d/*.conf\nHost c\n")
    _write_conf("x-main", 2300)
    assert user_config.read_text() == f"{include_line()}\n\nHost a\n  User b\nHost c\n"


def test_config_already_including_is_not_rewritten(home: Path) -> None:
    user_config = home / ".ssh" / "config"
    user_config.parent.mkdir(mode=0o700)
    original = f"# dotfiles\n{include_line()}\nHost a\n"
    user_config.write_text(original)
    before = user_config.stat().st_ino
    _write_conf("x-main", 2300)
    assert user_config.read_text() == original
    assert user_config.stat().st_ino == before


def test_symlinked_config_stays_a_symlink(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "ssh_config"
    target.parent.mkdir()
    target.write_text(USER_CONFIG)
    (home / ".ssh").mkdir(mode=0o700)
    (home / ".ssh" / "config").symlink_to(target)
    _write_conf("x-main", 2300)
    assert (home / ".ssh" / "config").is_symlink()
    assert target.read_text() == f"{include_line()}\n\n{USER_CONFIG}"


def test_only_files_with_our_marker_are_listed_or_removed(home: Path) -> None:
    ours = _write_conf("ours-main", 2305)
    foreign = ours.parent / "mine.conf"
    foreign.write_text("Host mine\n    Port 2306\n")
    assert [(c.container, c.port) for c in hostconfig.our_host_configs()] == [("ours-main", 2305)]
    assert hostconfig.remove_host_config("mine") is None
    assert foreign.exists()
    assert hostconfig.remove_host_config("ours-main") == 2305
    assert not ours.exists()


def test_known_hosts_replace_check_and_forget(home: Path) -> None:
    path = known_hosts.known_hosts_path()
    path.parent.mkdir(parents=True)
    path.write_text(
        "# comment stays\n"
        "[127.0.0.1]:2300 ssh-ed25519 AAAAold1\n"
        "[localhost]:2300 ssh-ed25519 AAAAold2\n"
        "[127.0.0.1]:2400 ssh-ed25519 AAAAother\n"
        "@cert-authority [127.0.0.1]:2300 ssh-ed25519 AAAAca\n"
    )
    known_hosts.replace(2300, [ED_A])
    assert path.read_text() == (
        "# comment stays\n"
        "[127.0.0.1]:2400 ssh-ed25519 AAAAother\n"
        "@cert-authority [127.0.0.1]:2300 ssh-ed25519 AAAAca\n"
        f"[127.0.0.1]:2300 ssh-ed25519 {ED_A.data}\n"
    )
    assert _mode(path) == 0o600

    known_hosts.check(2300, [ED_A, RSA], "app-main")  # a new key type is added
    assert f"[127.0.0.1]:2300 ssh-rsa {RSA.data}\n" in path.read_text()
    before = path.read_text()
    with pytest.raises(DomainError) as err:
        known_hosts.check(2300, [ED_B], "app-main")
    assert err.value.reason == "hostKeyChanged"
    assert "app-main" in err.value.message and "2300" in err.value.message
    assert path.read_text() == before  # nothing accepted silently

    known_hosts.forget(2300, "app-main")
    assert path.read_text() == (
        "# comment stays\n"
        "[127.0.0.1]:2400 ssh-ed25519 AAAAother\n"
        "@cert-authority [127.0.0.1]:2300 ssh-ed25519 AAAAca\n"
    )


def test_hashed_entries_are_matched_too(home: Path) -> None:
    path = known_hosts.known_hosts_path()
    path.parent.mkdir(parents=True)
    path.write_text(
        f"[127.0.0.1]:2301 {ED_A.type} {ED_A.data}\n[app-main]:2301 {RSA.type} {RSA.data}\n"
        f"[127.0.0.1]:2302 {ED_B.type} {ED_B.data}\n"
    )
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(path)], check=True, capture_output=True)
    assert "127.0.0.1" not in path.read_text()
    with pytest.raises(DomainError):
        known_hosts.check(2301, [ED_B], "app-main")
    remove_access("app-main", 2301)
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(ED_B.data)


def test_container_keys_are_validated_before_they_reach_known_hosts() -> None:
    text = (
        f"{ED_A.type} {ED_A.data} root@box\n"
        "ssh-rsa not/base64!\n"
        "@revoked ssh-ed25519 AAAA\n"
        f"{ED_A.type} {ED_A.data} duplicate\n"
        "garbage\n"
    )
    assert known_hosts.parse_keys(text) == [ED_A]


def test_remove_access_reads_the_port_from_the_config_when_unknown(home: Path) -> None:
    conf = _write_conf("gone-main", 2310)
    known_hosts.replace(2310, [ED_A])
    remove_access("gone-main", None)
    assert not conf.exists()
    assert "2310" not in known_hosts.known_hosts_path().read_text()


def test_pick_port_skips_used_and_listening_ports() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        assert pick_port((busy, busy + 2), used=[]) == busy + 1
        assert pick_port((busy, busy + 2), used=[busy + 1]) == busy + 2
        with pytest.raises(DomainError) as err:
            pick_port((busy, busy), used=[])
    assert err.value.reason == "portsExhausted"


def test_connect_command_names_the_config_only_when_home_is_not_the_login_home(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert hostconfig.connect_command("app-main") == f"ssh -F {home}/.ssh/config app-main"
    monkeypatch.setenv("HOME", pwd.getpwuid(os.getuid()).pw_dir)
    assert hostconfig.connect_command("app-main") == "ssh app-main"

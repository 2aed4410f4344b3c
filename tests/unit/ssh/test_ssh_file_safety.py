"""What we write under ~/.ssh and the config folder cannot be turned against the user:
no symlink is followed, no file without our marker is overwritten, a folder that is not
ours (or that others can write) is refused, and doctor names each of these. The Include
line loads our folder whatever `$HOME` is. No engine needed; real `ssh -G` checks configs.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.service.doctor.ssh import (
    ssh_dir_check,
    ssh_home_check,
    ssh_include_check,
    ssh_key_check,
)
from containai_rpc.ssh import hostconfig, keys, known_hosts
from containai_rpc.ssh.hostconfig import MARKER, include_line
from containai_rpc.ssh.known_hosts import HostKey
from containai_rpc.workspace.config import Settings

ED = HostKey("ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
VICTIM_TEXT = "my precious file\n"
NOBODY = 65534


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOME and XDG_CONFIG_HOME (not the login home): the real ~/.ssh is untouched."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    yield home


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim"
    path.write_text(VICTIM_TEXT)
    path.chmod(0o644)
    return path


def _write_conf(name: str = "app-main", port: int = 2300) -> Path:
    return hostconfig.write_host_config(
        name, port, keys.key_path(), known_hosts.known_hosts_path(), Settings()
    )


def _unchanged(victim: Path) -> None:
    assert victim.read_text() == VICTIM_TEXT
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644


def _conf_dir(home: Path, mode: int = 0o700) -> Path:
    folder = home / ".ssh" / "containai.d"
    folder.mkdir(parents=True)
    folder.chmod(mode)
    return folder


def _needs_root() -> None:
    if os.getuid() != 0:
        pytest.skip("chown to another uid needs root")


# -- host configs -------------------------------------------------------------------------


def test_symlinked_host_config_is_refused_and_its_target_untouched(home, victim) -> None:
    link = _conf_dir(home) / "app-main.conf"
    link.symlink_to(victim)
    with pytest.raises(DomainError) as err:
        _write_conf()
    assert err.value.reason == "sshSetupFailed"
    assert "symbolic link" in err.value.message and str(link) in err.value.message
    assert f"rm {link}" in (err.value.hint or "")
    _unchanged(victim)
    assert link.is_symlink()


def test_symlinked_host_config_is_neither_listed_nor_removed(home, victim) -> None:
    victim.write_text(f"{MARKER} app-main\nHost app-main\n    Port 2300\n")
    victim.chmod(0o644)
    link = _conf_dir(home) / "app-main.conf"
    link.symlink_to(victim)
    assert hostconfig.our_host_configs() == []
    assert hostconfig.remove_host_config("app-main") is None
    assert link.is_symlink() and victim.read_text().startswith(MARKER)


def test_hand_written_host_config_without_marker_is_refused_and_kept(home) -> None:
    path = _conf_dir(home) / "app-main.conf"
    path.write_text("Host app-main\n    ProxyCommand nc evil 22\n")
    path.chmod(0o644)
    with pytest.raises(DomainError) as err:
        _write_conf()
    assert err.value.reason == "sshSetupFailed"
    assert "not written by ContainAI" in err.value.message
    assert f"mv {path} {path}.bak" in (err.value.hint or "")
    assert path.read_text() == "Host app-main\n    ProxyCommand nc evil 22\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_our_own_host_config_is_still_rewritten(home) -> None:
    path = _write_conf(port=2300)
    _write_conf(port=2301)
    assert "    Port 2301\n" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_group_or_other_writable_containai_d_is_refused(home, mode) -> None:
    folder = _conf_dir(home, mode)
    (folder / "evil.conf").write_text("Host *\n    ProxyCommand nc evil 22\n")
    with pytest.raises(DomainError) as err:
        _write_conf()
    assert err.value.reason == "sshSetupFailed"
    assert f"has mode {mode:o}" in err.value.message
    assert f"chmod 700 {folder}" in (err.value.hint or "")
    assert stat.S_IMODE(folder.stat().st_mode) == mode  # not silently tightened
    assert sorted(p.name for p in folder.iterdir()) == ["evil.conf"]


def test_containai_d_owned_by_another_user_is_refused(home) -> None:
    _needs_root()
    folder = _conf_dir(home)
    (folder / "evil.conf").write_text("Host *\n    ProxyCommand nc evil 22\n")
    os.chown(folder, NOBODY, NOBODY)
    with pytest.raises(DomainError) as err:
        _write_conf()
    assert err.value.reason == "sshSetupFailed"
    assert f"owned by uid {NOBODY}" in err.value.message
    hint = err.value.hint or ""
    assert f"mv {folder} {folder}.suspect" in hint and "chown" in hint
    assert sorted(p.name for p in folder.iterdir()) == ["evil.conf"]


def test_readable_only_containai_d_is_still_tightened(home) -> None:
    folder = _conf_dir(home, 0o755)
    _write_conf()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


# -- config folder: key and known_hosts ---------------------------------------------------


def test_group_writable_config_dir_is_refused_for_key_and_known_hosts(home) -> None:
    folder = home / ".config" / "containai"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    for action in (keys.ensure_key, lambda: known_hosts.replace(2300, [ED])):
        with pytest.raises(DomainError) as err:
            action()
        assert err.value.reason == "sshSetupFailed"
        assert f"chmod 700 {folder}" in (err.value.hint or "")
    assert [p.name for p in folder.iterdir() if p.name != "locks"] == []


def test_config_dir_owned_by_another_user_is_refused(home) -> None:
    _needs_root()
    folder = home / ".config" / "containai"
    folder.mkdir(parents=True, mode=0o700)
    os.chown(folder, NOBODY, NOBODY)
    with pytest.raises(DomainError) as err:
        known_hosts.replace(2300, [ED])
    assert f"owned by uid {NOBODY}" in err.value.message


def test_symlinked_known_hosts_is_refused_and_its_target_untouched(home, victim) -> None:
    folder = home / ".config" / "containai"
    folder.mkdir(parents=True, mode=0o700)
    (folder / "known_hosts").symlink_to(victim)
    with pytest.raises(DomainError) as err:
        known_hosts.replace(2300, [ED])
    assert "symbolic link" in err.value.message
    with pytest.raises(DomainError):
        known_hosts.has_entries(2300)
    _unchanged(victim)


def test_symlinked_key_files_are_refused(home, victim) -> None:
    folder = home / ".config" / "containai"
    folder.mkdir(parents=True, mode=0o700)
    (folder / "id_containai.pub").symlink_to(victim)
    with pytest.raises(DomainError) as err:
        keys.ensure_key()
    assert "symbolic link" in err.value.message
    _unchanged(victim)
    assert not (folder / "id_containai").exists()


# -- Include ------------------------------------------------------------------------------


def test_include_names_the_absolute_folder_and_ssh_finds_the_host(home) -> None:
    assert Path(pwd.getpwuid(os.getuid()).pw_dir).resolve() != home.resolve()
    _write_conf(port=2345)
    config = home / ".ssh" / "config"
    assert config.read_text() == f"{include_line()}\n"
    assert include_line() == f"Include {home}/.ssh/containai.d/*.conf"
    resolved = _ssh_g(config, "app-main")
    assert (resolved["hostname"], resolved["port"], resolved["user"]) == (
        "127.0.0.1",
        "2345",
        "agent",
    )


def test_a_tilde_include_is_migrated_in_place(home) -> None:
    config = home / ".ssh" / "config"
    config.parent.mkdir(mode=0o700)
    config.write_text("# mine\nInclude ~/.ssh/containai.d/*.conf\n\nHost a\n    User b\n")
    _write_conf(port=2346)
    assert config.read_text() == f"# mine\n{include_line()}\n\nHost a\n    User b\n"
    assert _ssh_g(config, "app-main")["port"] == "2346"


def test_a_tilde_include_that_loads_our_folder_is_left_alone(home, monkeypatch) -> None:
    monkeypatch.setattr(hostconfig, "_login_home", lambda: home)  # HOME is the login home
    config = home / ".ssh" / "config"
    config.parent.mkdir(mode=0o700)
    original = "Include ~/.ssh/containai.d/*.conf\nHost a\n"
    config.write_text(original)
    _write_conf()
    assert config.read_text() == original


def test_include_with_spaces_in_home_is_quoted(tmp_path, monkeypatch) -> None:
    home = tmp_path / "my home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    _write_conf(port=2347)
    config = home / ".ssh" / "config"
    assert config.read_text() == f'Include "{home}/.ssh/containai.d/*.conf"\n'
    assert _ssh_g(config, "app-main")["port"] == "2347"


def test_symlinked_user_config_to_a_foreign_file_is_refused(home, tmp_path) -> None:
    _needs_root()
    target = tmp_path / "their_config"
    target.write_text("Host x\n")
    os.chown(target, NOBODY, NOBODY)
    (home / ".ssh").mkdir(mode=0o700)
    (home / ".ssh" / "config").symlink_to(target)
    with pytest.raises(DomainError) as err:
        _write_conf()
    assert "not a regular file of yours" in err.value.message
    assert target.read_text() == "Host x\n"


def _ssh_g(config: Path, host: str) -> dict[str, str]:
    out = subprocess.run(
        ["ssh", "-G", "-F", str(config), host],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    ).stdout
    return {k: v for k, _, v in (line.partition(" ") for line in out.splitlines())}


# -- doctor -------------------------------------------------------------------------------


def test_doctor_reports_a_loose_dot_ssh(home) -> None:
    (home / ".ssh").mkdir()
    (home / ".ssh").chmod(0o777)
    found = ssh_home_check().check
    assert (found.id, found.status) == ("ssh.home", "warn")
    assert "mode 777" in found.detail and f"chmod 700 {home / '.ssh'}" in (found.hint or "")
    (home / ".ssh").chmod(0o700)
    assert ssh_home_check().check.status == "ok"


def test_doctor_reports_a_writable_or_foreign_containai_d(home) -> None:
    folder = _conf_dir(home, 0o777)
    result = ssh_dir_check()
    assert (result.check.status, result.action) == ("error", "setupSsh")
    assert f"chmod 700 {folder}" in (result.check.hint or "")
    if os.getuid() == 0:
        folder.chmod(0o700)
        os.chown(folder, NOBODY, NOBODY)
        result = ssh_dir_check()
        assert result.check.status == "error" and f"uid {NOBODY}" in result.check.detail


def test_doctor_reports_symlinked_and_hand_written_host_configs(home, victim) -> None:
    folder = _conf_dir(home)
    _write_conf()
    (folder / "evil.conf").write_text("Host *\n    ProxyCommand nc evil 22\n")
    (folder / "link.conf").symlink_to(victim)
    found = ssh_dir_check().check
    assert found.status == "warn"
    assert "evil.conf" in found.detail and "link.conf (symlink)" in found.detail
    assert "app-main.conf" not in found.detail


def test_doctor_reports_a_config_dir_others_can_write_and_symlinked_keys(home, victim) -> None:
    folder = home / ".config" / "containai"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    result = ssh_key_check()
    assert (result.check.status, result.action) == ("error", "setupSsh")
    assert "mode 777" in result.check.detail
    folder.chmod(0o700)
    (folder / "id_containai").symlink_to(victim)
    result = ssh_key_check()
    assert result.check.status == "error" and "symbolic link" in result.check.detail


def test_doctor_reports_an_include_that_misses_our_folder(home) -> None:
    config = home / ".ssh" / "config"
    config.parent.mkdir(mode=0o700)
    config.write_text("Include ~/.ssh/containai.d/*.conf\n")
    found = ssh_include_check().check
    assert found.status == "warn"
    assert str(hostconfig.host_config_dir()) in found.detail and "login home" in found.detail
    assert include_line() in (found.hint or "")
    config.write_text(include_line() + "\n")
    assert ssh_include_check().check.status == "ok"

"""The one session argv: its ssh options, and a remote command line that a real shell
runs as given, whatever the values (checked by running it with `sh -c` here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from containai_rpc.protocol.models import RunParams
from containai_rpc.service.session_command import session_command
from containai_rpc.ssh import session
from containai_rpc.ssh.session import remote_command, session_argv
from tests.support.waiting import poll

HOSTILE = ["it's", 'a "b"', "$(touch pwned)", "`id`", "x\ny", "-n", "*", "; exit 9", ""]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(session, "WORKDIR", str(tmp_path))
    return tmp_path


def sh(line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", line], cwd="/", capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize("value", HOSTILE)
def test_arguments_and_env_values_arrive_verbatim_in_the_workspace(workdir: Path, value: str):
    line = remote_command(
        ["sh", "-c", 'printf "%s|%s|%s" "$PWD" "$FOO" "$1"', "argv0", value], {"FOO": value}
    )
    done = sh(line)
    assert (done.returncode, done.stdout) == (0, f"{workdir}|{value}|{value}")
    assert not (workdir / "pwned").exists()


def test_the_exit_status_is_the_commands(workdir: Path):
    assert sh(remote_command(["sh", "-c", "exit 7"])).returncode == 7


def test_detached_prints_the_pid_of_the_command_itself_and_returns_at_once(workdir: Path):
    marker = workdir / "started"
    line = remote_command(["sh", "-c", f"echo $$ > {marker}; exec sleep 30"], detached=True)
    done = subprocess.run(["sh", "-c", line], capture_output=True, timeout=10)
    pid = int(done.stdout)
    try:
        assert done.returncode == 0
        poll(lambda: marker.exists() and marker.read_text().strip(), "the detached command")
        assert int(marker.read_text()) == pid  # `$!` is the command's own pid
        assert Path(f"/proc/{pid}/cwd").resolve() == workdir.resolve()
    finally:
        subprocess.run(["kill", str(pid)], check=False)


def test_argv_flags_tty_and_detached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))  # not the login home: `-F` names our config
    argv = session_argv("app-main", ["claude"], tty=True)
    assert argv[:3] == ["ssh", "-F", str(tmp_path / ".ssh" / "config")]
    assert argv[3:] == [
        "-t",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "LogLevel=ERROR",
        "app-main",
        "cd /home/agent/workspace && exec claude",
    ]
    assert "-T" in session_argv("app-main", ["sleep", "1"], tty=True, detached=True)
    assert "-T" in session_argv("app-main", ["true"])


def test_the_program_is_the_command_else_the_agent_else_the_default_else_claude():
    def remote(**kw: object) -> tuple[str, str | None]:
        s = session_command("c", **kw)  # type: ignore[arg-type]
        return s.remote_command.rsplit("exec ", 1)[1], s.agent

    assert remote() == ("claude", "claude")
    assert remote(default_agent="gemini") == ("gemini", "gemini")
    assert remote(agent="codex", default_agent="gemini") == ("codex", "codex")
    assert remote(agent="codex", command=["ls", "-l"]) == ("ls -l", None)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"env": {"1X": "a"}}, "env"),
        ({"env": {"A-B": "a"}}, "env"),
        ({"env": {"A": "x\0y"}}, "env"),
        ({"command": []}, "command"),
        ({"command": [""]}, "command"),
        ({"agent": "Claude Code"}, "agent"),
        ({"memory": "4 GB"}, "memory"),
        ({"cpus": 0}, "cpus"),
    ],
)
def test_bad_session_params_are_refused_by_the_model(params: dict[str, object], field: str):
    with pytest.raises(ValueError, match=field):
        RunParams.model_validate(params)

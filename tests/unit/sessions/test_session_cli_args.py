"""`cai` arguments of sessions: the command after `--`, `-e`, `-d`, `--agent`, the limits,
and which invocations run a session instead of printing."""

from __future__ import annotations

import pytest

from containai_rpc.cli.commands.base import UsageError
from containai_rpc.cli.commands.inspect import render_status
from containai_rpc.cli.main import parse, split_command


def request(argv: list[str]) -> tuple[str, dict[str, object], bool]:
    args = parse(argv)
    method, params = args.handler.request(args)
    return method, params, args.handler.opens_session(args)


def test_split_command_keeps_later_double_dashes():
    assert split_command(["run", "-e", "A=1"]) == (["run", "-e", "A=1"], None)
    assert split_command(["run", "--", "sh", "-c", "x", "--", "y"]) == (
        ["run"],
        ["sh", "-c", "x", "--", "y"],
    )


def test_run_with_a_command_env_detached_and_limits():
    method, params, session = request(
        ["run", "-e", "FOO=bar", "-d", "--memory", "1g", "--cpus", "0.5", "--", "sleep", "300"]
    )
    assert method == "containai/run" and session
    assert params == {
        "memory": "1g",
        "cpus": 0.5,
        "command": ["sleep", "300"],
        "env": {"FOO": "bar"},
        "detached": True,
    }  # no `tty` under pytest: stdin is not a terminal


def test_json_and_dry_run_run_no_session_but_still_say_which():
    _, params, session = request(["run", "--json", "--agent", "gemini"])
    assert params == {"agent": "gemini"} and not session
    assert not request(["run", "--dry-run"])[2]
    assert request(["run"])[2]


def test_exec_and_shell():
    _, params, session = request(["exec", "--container", "c1", "--", "pwd"])
    assert params == {"container": "c1", "command": ["pwd"]} and session
    _, params, session = request(["shell"])
    assert params == {"command": ["bash", "-l"]} and session


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["exec"], "give the command after --"),
        (["run", "--"], "nothing after --"),
        (["status", "--", "x"], "cai status takes no command after --"),
        (["run", "-e", "9=x"], "Invalid environment variable name"),
        (["run", "--cpus", "two"], "--cpus"),
    ],
)
def test_usage_errors(argv: list[str], words: str):
    with pytest.raises(UsageError, match=words):
        request(argv)


def test_status_shows_the_limits():
    base = {"name": "c", "status": "running", "image": "i"}
    text = render_status({**base, "memoryLimitBytes": 2**30, "cpus": 1.0})
    assert "  Limits: memory 1g, cpus 1" in text.splitlines()
    assert "Limits" not in render_status(base)

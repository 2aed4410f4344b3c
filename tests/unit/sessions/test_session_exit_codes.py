"""How `cai` runs a session's argv: its status passed through, SSH's failures as the
original's codes, transient ones retried (a stand-in `ssh` script counts the attempts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from containai_rpc.cli.commands import sessions
from containai_rpc.cli.commands.base import UsageError
from containai_rpc.cli.commands.sessions import env_values, failure_code, run_ssh


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sessions.RETRY_DELAY_ENV, "0.001")


def fake_ssh(tmp_path: Path, stderr: str, code: int) -> tuple[list[str], Path]:
    """An argv that counts its runs in a file, writes `stderr` and exits `code`."""
    count = tmp_path / "count"
    script = (
        "import sys, pathlib; p = pathlib.Path(sys.argv[1]); "
        "p.write_text(str(int(p.read_text() or 0) + 1) if p.exists() else '1'); "
        f"sys.stderr.write({stderr!r}); sys.exit({code})"
    )
    return [sys.executable, "-c", script, str(count)], count


@pytest.mark.parametrize(
    ("stderr", "code", "expected", "attempts"),
    [
        ("", 0, 0, 1),
        ("remote said no\n", 7, 7, 1),
        ("the command itself exits 255\n", 255, 255, 1),
        ("ssh: connect to host 127.0.0.1 port 2301: Connection refused\n", 255, 13, 3),
        ("kex_exchange_identification: Connection closed by remote host\n", 255, 13, 3),
        ("agent@127.0.0.1: Permission denied (publickey).\n", 255, 13, 1),
        ("ssh: Could not resolve hostname nowhere: Name or service not known\n", 255, 13, 1),
        ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\n", 255, 14, 1),
        ("Host key verification failed.\n", 255, 14, 1),
    ],
)
def test_status_and_retries(tmp_path: Path, stderr: str, code: int, expected: int, attempts: int):
    argv, count = fake_ssh(tmp_path, stderr, code)
    assert run_ssh(argv) == expected
    assert int(count.read_text()) == attempts


def test_ssh_stderr_passes_through(tmp_path: Path, capfd: pytest.CaptureFixture[str]):
    argv, _ = fake_ssh(tmp_path, "warning: something\n", 3)
    assert run_ssh(argv) == 3
    assert "warning: something\n" in capfd.readouterr().err


def test_a_missing_ssh_client_is_13_with_a_message(capfd: pytest.CaptureFixture[str]):
    assert run_ssh(["/nonexistent/ssh", "host"]) == 13
    assert "[ERROR] Cannot run /nonexistent/ssh" in capfd.readouterr().err


def test_failed_requests_map_to_the_originals_codes():
    assert [failure_code(r) for r in ("containerNotFound", "startTimeout", "sshdTimeout")] == [
        10,
        11,
        12,
    ]
    assert (failure_code("hostKeyChanged"), failure_code("notManaged")) == (14, 15)
    assert failure_code("imageNotFound") == 1


def test_env_values(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FROM_HERE", "v a=l")
    assert env_values(["A=1", "B=", "C=x=y", "FROM_HERE"]) == {
        "A": "1",
        "B": "",
        "C": "x=y",
        "FROM_HERE": "v a=l",
    }
    assert env_values(None) is None
    for bad, words in (
        ("1A=x", "Invalid environment variable name"),
        ("A-B=x", "Invalid environment variable name"),
        ("=x", "Invalid environment variable name"),
        ("NOT_SET_ANYWHERE_X", "is not set here"),
    ):
        monkeypatch.delenv("NOT_SET_ANYWHERE_X", raising=False)
        with pytest.raises(UsageError, match=words):
            env_values([bad])

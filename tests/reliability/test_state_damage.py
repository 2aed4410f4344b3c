"""State-file damage: a broken config.toml is reported, never "repaired" by overwriting.

Each kind of damage — invalid TOML, wrong types, a directory in its place, bytes that are
not UTF-8, no read permission — makes every operation that needs the file fail with
`stateFileInvalid`, a message naming the file and a hint saying what to do; the server
keeps serving, the file is byte-identical afterwards, and once the user fixes it the
same server works again.

Permissions: the tests run as root, which ignores file modes, so the unreadable case runs
the server as `nobody` (setpriv) with a HOME of its own outside pytest's private tmp.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.raw_client import RawServer
from tests.support.reliability import TALLY

pytestmark = pytest.mark.engine

NOBODY = 65534
DAMAGE: dict[str, bytes] = {
    "invalid TOML": b'# my settings\n[agent\ndata_volume = "x"\n',
    "wrong type in a workspace table": b'[workspace."/somewhere"]\ncontainer_name = 5\n',
    "workspace is not a table": b'workspace = "oops"\n',
    "keep list of numbers": b"[keep]\ncontainers = [1, 2]\n",
    "not UTF-8": b'[agent]\ndata_volume = "caf\xe9"\n',
    "duplicate table": b"[agent]\nimage = 'a'\n[agent]\nimage = 'b'\n",
}
# Every operation that reads the user config; each must refuse the same way.
# ("W" is replaced by the test's workspace.)
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("containai/run", {"workspace": "W"}),
    ("containai/run", {"workspace": "W", "dryRun": True}),
    ("containai/stop", {"workspace": "W"}),
    ("containai/status", {"workspace": "W"}),
    ("containai/keep", {"workspace": "W", "keep": True}),
    ("containai/configGet", {"workspace": "W", "key": "data_volume"}),
    ("containai/list", {}),
    ("containai/gc", {"dryRun": True}),
]


def _snapshot(path: Path) -> tuple[Any, ...]:
    st = path.lstat()
    content = path.read_bytes() if path.is_file() else sorted(os.listdir(path))
    return (content, st.st_mode, st.st_ino, st.st_mtime_ns, st.st_uid)


def _refused_everywhere(server: RawServer, ws: Path, config: Path) -> None:
    """Every request answers stateFileInvalid naming the file, with a hint; none crashes."""
    for method, raw in REQUESTS:
        params = {k: str(ws) if v == "W" else v for k, v in raw.items()}
        error = server.request(method, params).get("error")
        assert error is not None, (method, params)
        data = error.get("data") or {}
        assert (error["code"], data.get("reason")) == (-32803, "stateFileInvalid"), (method, error)
        assert str(config) in error["message"], error
        assert data.get("file") == str(config) and data.get("hint"), error


@pytest.mark.parametrize("case", [*DAMAGE, "a directory in its place"])
def test_damaged_state_file_is_reported_and_never_overwritten(sandbox, servers, case):
    ws = sandbox.workspace("damaged")
    config = sandbox.config_file
    if case in DAMAGE:
        config.write_bytes(DAMAGE[case])
    else:
        config.unlink()
        config.mkdir()
        (config / "keep-me").write_text("user data\n")
    before = _snapshot(config)
    TALLY["damaged state files"] += 1

    server = servers(sandbox.env, ws)
    _refused_everywhere(server, ws, config)
    cli = sandbox.cai("run", cwd=ws)
    assert cli.returncode == 1 and str(config) in cli.stderr and "[HINT]" in cli.stderr, cli
    assert "Traceback" not in cli.stderr
    assert _snapshot(config) == before, "the damaged file was changed"
    assert sandbox.containers() == []

    # Fixed by the user: the very same server works again.
    if config.is_dir():
        shutil.rmtree(config)
    config.write_text(f'[agent]\ndata_volume = "{sandbox.volume}"\n')
    assert "result" in server.request("containai/run", {"workspace": str(ws), "dryRun": True})


@pytest.fixture
def nobody_home() -> Iterator[Path]:
    """A HOME that `nobody` owns (pytest's tmp is private to root)."""
    home = Path(tempfile.mkdtemp(prefix="cai-rel-nobody-"))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_unreadable_state_file_as_an_unprivileged_user(sandbox, servers, nobody_home):
    if shutil.which("setpriv") is None:  # pragma: no cover - util-linux is in the base image
        pytest.skip("setpriv is needed to drop root, which ignores file modes")
    ws = nobody_home / "ws"
    config = nobody_home / ".config" / "containai" / "config.toml"
    config.parent.mkdir(parents=True)
    ws.mkdir()
    config.write_text("# mine\n[agent]\nimage = 'x'\n")
    for path in [nobody_home, *nobody_home.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    config.chmod(0)
    before = _snapshot(config)
    TALLY["damaged state files"] += 1
    env = {
        **sandbox.env,
        "HOME": str(nobody_home),
        "XDG_CONFIG_HOME": str(nobody_home / ".config"),
        "XDG_STATE_HOME": str(nobody_home / ".local" / "state"),
        "XDG_CACHE_HOME": str(nobody_home / ".cache"),
    }
    command = [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        sys.executable,
        "-m",
        "containai_rpc",
    ]
    probe = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "cat", config],
        capture_output=True,
    )
    assert probe.returncode != 0, "nobody can read a mode-000 file: the test proves nothing"
    server = servers(env, ws, command=command)
    _refused_everywhere(server, ws, config)
    error = server.request("containai/run", {"workspace": str(ws)})["error"]
    assert "permission denied" in error["message"], error
    assert _snapshot(config) == before

"""The shared server's place and privacy checks, and what `cai`'s client imports."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from containai_rpc.local import rundir

HEAVY = ("pygls", "pydantic", "pydantic_core", "lsprotocol", "docker", "cattrs", "asyncio")


def test_the_name_holds_the_version_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"HOME": "/h", "XDG_RUNTIME_DIR": "/run/user/7", "DOCKER_HOST": "unix:///a"}
    base = rundir.place(env)
    assert base.dir == Path("/run/user/7/containai")
    assert base.name.startswith(f"{rundir.PREFIX}{rundir.__version__}-")
    assert rundir.place({**env, "DOCKER_HOST": "unix:///b"}).name != base.name
    assert rundir.place({**env, "CONTAINAI_IMAGE": "x"}).name != base.name
    # What the server does not read does not split servers (nor does the runtime dir).
    assert rundir.place({**env, "TERM": "dumb", "CONTAINAI_LOG_LEVEL": "DEBUG"}).name == base.name
    monkeypatch.setattr(rundir, "__version__", "99.0")
    assert rundir.place(env).name.startswith(f"{rundir.PREFIX}99.0-")
    assert rundir.runtime_dir({}) == Path(f"/tmp/containai-{os.getuid()}")


def test_a_directory_or_socket_that_is_not_private_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "containai"
    rundir.ensure_dir(home)
    assert home.stat().st_mode & 0o777 == 0o700
    path = home / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        path.chmod(0o600)
        rundir.check_socket(path)
        path.chmod(0o660)
        with pytest.raises(rundir.Refused, match="let other users in"):
            rundir.check_socket(path)
        path.chmod(0o600)
        os.chown(path, 4242, -1)
        with pytest.raises(rundir.Refused, match="owned by uid 4242"):
            rundir.check_socket(path)
        os.chown(path, os.getuid(), -1)
        home.chmod(0o711)
        with pytest.raises(rundir.Refused, match="directory"):
            rundir.check_socket(path)
        home.chmod(0o700)
    other = tmp_path / "file.sock"
    other.write_text("")
    other.chmod(0o600)
    with pytest.raises(rundir.Refused, match="not a socket"):
        rundir.check_private(other, "socket", stat.S_ISSOCK)


def test_peer_credentials_name_our_uid() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        assert rundir.check_peer(left) == os.getpid()


def test_the_client_path_imports_nothing_heavy() -> None:
    """What `cai` and `containai-rpc --remote auto` import before they talk to a server."""
    probe = (
        "import sys, json\n"
        "import containai_rpc.cli.main, containai_rpc.local.connect, containai_rpc.local.forward\n"
        "import containai_rpc.server.entry\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert not set(json.loads(done.stdout)) & set(HEAVY)

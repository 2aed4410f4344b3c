"""`cai` and the shared server, on the real engine: started once however many calls race,
a second start is a no-op, a socket that is not private is refused, the server exits
when idle or replaced by another version, and `cai`'s path imports no protocol stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.shared_server import (
    REMOTE_COMMAND,
    alive,
    cai,
    runtime_dir,
    server_status,
    shared_env,
    stop_all,
)
from tests.support.waiting import poll

pytestmark = pytest.mark.engine
HEAVY = ("pygls", "pydantic", "pydantic_core", "lsprotocol", "docker", "cattrs")


@pytest.fixture
def env(sandbox: Any) -> Iterator[dict[str, str]]:
    env = shared_env(sandbox)
    yield env
    stop_all(env)


def listed(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert "containers" in result
    return result


def test_twenty_racing_calls_start_one_server_and_all_answer(env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "containai_rpc.cli", "list", "--json"]
    procs = [
        subprocess.Popen(
            argv,
            env=env,
            cwd=env["HOME"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    outcomes = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 0, err
        assert "containers" in json.loads(out) and err == ""
    sockets = sorted(runtime_dir(env).glob("*.sock"))
    assert len(sockets) == 1
    log = sockets[0].with_suffix(".log").read_text()
    assert log.count("listening on") == 1, log
    # A second start while one runs is a no-op.
    pid = server_status(env)["pid"]
    again = subprocess.run(
        [sys.executable, "-m", "containai_rpc", "--listen"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "already listens" in again.stderr
    assert server_status(env)["pid"] == pid


def test_the_cli_path_imports_no_protocol_stack(env: dict[str, str]) -> None:
    listed(cai(env, "list", "--json"))  # the server is up: what follows is the warm path
    for argv in (
        ["-m", "containai_rpc.cli", "list", "--json"],
        ["-m", "containai_rpc.cli", "status", "--json", "--container", "nope"],
    ):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *argv],
            env=env,
            cwd=env["HOME"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        imported = {
            line.rsplit("|", 1)[1].strip().split(".")[0]
            for line in done.stderr.splitlines()
            if line.startswith("import time:")
        }
        assert "containai_rpc" in imported
        assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
    # Its answers still come from a real server: an unknown container is a domain error.
    assert done.returncode == 1 and "nope" in done.stderr


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def test_remote_auto_forwards_to_the_shared_server(env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", *REMOTE_COMMAND[1:]],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(
        frame({"id": 1, "method": "initialize", "params": {"capabilities": {}}})
        + frame({"method": "initialized", "params": {}})
        + frame({"id": 2, "method": "containai/list", "params": {}})
    )
    proc.stdin.flush()
    seen = b""
    while b'"containers"' not in seen:
        chunk = os.read(proc.stdout.fileno(), 65536)
        assert chunk, seen
        seen += chunk
    assert b'"capabilities"' in seen
    out, err = proc.communicate(
        frame({"id": 3, "method": "shutdown"}) + frame({"method": "exit"}), timeout=60
    )
    assert proc.returncode == 0, err
    assert b'"id": 3' in out
    assert server_status(env)["running"]
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in err.decode().splitlines()
        if line.startswith("import time:")
    }
    assert not imported & set(HEAVY)


def test_the_server_exits_after_its_idle_time(sandbox: Any) -> None:
    env = shared_env(sandbox, idle_s=1.0)
    try:
        listed(cai(env, "list", "--json"))
        status = server_status(env)
        assert status["running"] and status["idleTimeoutS"] == 1.0
        poll(lambda: not alive(status["pid"]), "the idle server to exit")
        assert not list(runtime_dir(env).glob("*.sock"))
    finally:
        stop_all(env)


def test_a_newer_version_replaces_the_running_server(env: dict[str, str]) -> None:
    listed(cai(env, "list", "--json"))
    old = server_status(env)
    newer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import containai_rpc; containai_rpc.__version__ = '99.0.0'\n"
            "from containai_rpc.server.entry import main; main(['--listen'])",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        poll(lambda: not alive(old["pid"]), "the older server to leave")
        assert not os.path.exists(old["socket"])
        names = [p.name for p in runtime_dir(env).glob("*.sock")]
        assert len(names) == 1 and names[0].startswith("rpc-99.0.0-")
    finally:
        stop_all(env)
        newer.wait(timeout=30)


@pytest.mark.parametrize("flaw", ["loose directory", "loose socket", "foreign socket"])
def test_a_socket_that_is_not_private_is_refused(env: dict[str, str], flaw: str) -> None:
    place_dir = runtime_dir(env)
    if flaw == "loose directory":
        place_dir.mkdir(mode=0o700, exist_ok=True)
        place_dir.chmod(0o755)
        expected = "directory"
    else:
        listed(cai(env, "list", "--json"))
        (socket_path,) = place_dir.glob("*.sock")
        if flaw == "loose socket":
            socket_path.chmod(0o666)
            expected = "permissions"
        else:
            os.chown(socket_path, 4242, 4242)
            expected = "owned by uid 4242"
    try:
        done = cai(env, "list", "--json")
        # Refused, said so, and answered all the same by a private server.
        listed(done)
        assert "[WARN] Refusing the shared server" in done.stderr and expected in done.stderr
        status = cai(env, "server", "status")
        assert status.returncode == 1 and expected in status.stderr
    finally:
        place_dir.chmod(0o700)
        for path in place_dir.glob("*.sock"):
            os.chown(path, os.getuid(), os.getgid())
            path.chmod(0o600)

"""Several clients on one shared server (each through `containai-rpc --remote auto`, as an
editor would use it), on the real engine: each gets only its own responses, progress and
questions; all get the live events; one client dying disturbs nobody else."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.support.lsp_client import CaiClient, start_server, stop_server
from tests.support.shared_server import REMOTE_COMMAND, alive, server_status, shared_env, stop_all
from tests.support.waiting import poll

pytestmark = pytest.mark.engine


@pytest_asyncio.fixture
async def clients(sandbox: Any) -> AsyncIterator[tuple[dict[str, str], CaiClient, CaiClient]]:
    env = shared_env(sandbox)
    started: list[CaiClient] = []
    try:
        for _ in range(2):
            started.append(await start_server(env, command=REMOTE_COMMAND))
        yield env, started[0], started[1]
    finally:
        for client in started:
            await stop_server(client)
        stop_all(env)


def open_fake_session(sandbox: Any, name: str) -> None:
    """An established TCP connection to port 22 in the container: what sshd shows for a
    session, and what makes `stop` ask first."""
    c = sandbox.client.containers.get(name)
    c.exec_run(["sh", "-c", "while :; do sleep 1; done | nc -l -p 22 > /dev/null"], detach=True)
    c.exec_run(["sh", "-c", "while :; do sleep 1; done | nc 127.0.0.1 22"], detach=True)

    def established() -> bool:
        out = c.exec_run(["sh", "-c", "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null"]).output
        return b":0016 " in out and b" 01 " in out

    poll(established, "the fake session")


async def test_two_clients_get_only_their_own_answers_progress_and_questions(
    sandbox: Any, clients: tuple[dict[str, str], CaiClient, CaiClient]
) -> None:
    env, a, b = clients
    ws_a, ws_b = sandbox.workspace("alpha"), sandbox.workspace("beta")
    for client in (a, b):
        client.expect_progress("same-token")
    # Both run at once, with the same progress token: each sees only its own progress.
    run_a, run_b = await asyncio.gather(
        a.request("containai/run", {"workspace": str(ws_a), "workDoneToken": "same-token"}),
        b.request("containai/run", {"workspace": str(ws_b), "workDoneToken": "same-token"}),
    )
    assert run_a["workspace"] == str(ws_a) and run_b["workspace"] == str(ws_b)
    for client in (a, b):
        reports = client.progress_reports["same-token"]
        assert [r.kind for r in reports[:1] + reports[-1:]] == ["begin", "end"]
        assert len([r for r in reports if r.kind == "begin"]) == 1  # not the other's too
    # Both hear of both containers (one watcher, fanned out).
    for client in (a, b):
        for result in (run_a, run_b):
            await client.expect(
                "containai/containerChanged",
                lambda p, n=result["containerName"]: p["container"]["name"] == n,
                timeout=30,
            )
    # A question goes to the client whose request asks it, and only to that one.
    open_fake_session(sandbox, run_a["containerName"])
    a.answer, b.answer = None, "Stop"
    declined = await a.request("containai/stop", {"workspace": str(ws_a)})
    assert declined["results"][0]["action"] == "declined"
    assert len(a.questions) == 1 and b.questions == []
    stopped = await b.request("containai/stop", {"workspace": str(ws_a)})
    assert stopped["results"][0]["action"] == "stopped"
    assert len(a.questions) == 1 and len(b.questions) == 1
    for client in (a, b):
        await client.expect(
            "containai/containerChanged",
            lambda p: p["container"]["name"] == run_a["containerName"] and p["kind"] == "stopped",
            timeout=30,
        )
    assert server_status(env)["running"]


async def test_a_client_killed_mid_request_disturbs_no_other(
    sandbox: Any, clients: tuple[dict[str, str], CaiClient, CaiClient]
) -> None:
    env, a, _b = clients
    pid = server_status(env)["pid"]
    ws = sandbox.workspace("killed")
    victim = subprocess.Popen(
        REMOTE_COMMAND, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert victim.stdin is not None and victim.stdout is not None
    for message in (
        {"id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"method": "initialized", "params": {}},
        {
            "id": 2,
            "method": "containai/run",
            "params": {"workspace": str(ws), "workDoneToken": "victim"},
        },
    ):
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        victim.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    victim.stdin.flush()
    # Once its run has begun (its progress says so), it dies without a word.
    seen = b""
    while b'"begin"' not in seen:
        chunk = os.read(victim.stdout.fileno(), 65536)
        assert chunk, "the forwarder ended before the run began"
        seen += chunk
    alpha = sandbox.workspace("alpha")
    other = asyncio.ensure_future(a.request("containai/run", {"workspace": str(alpha)}))
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    result = await other
    assert result["workspace"] == str(alpha) and result["state"] == "running"
    listed = await a.request("containai/list", {})
    assert result["containerName"] in {c["name"] for c in listed["containers"]}
    assert server_status(env)["pid"] == pid and alive(pid)

"""What a real LSP client (Neovim's) sends, against the real server on the real engine:
a cancel at each step of `run`, the progress's cancel button, a client killed mid-run,
`params: []`, a request nested 100 000 levels deep, a flood of identical bad messages.

A cancel takes effect at the next step boundary before any further change: the answer
is -32800 with no new container, or (past the point of no return) the normal result."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from containai_rpc.workspace.locks import locked
from containai_rpc.workspace.paths import normalize_path
from tests.support.raw_client import Message, RawServer, frame

STEPS = [None, "Preparing data volume", "Creating container", "Starting container"]


def _server(sandbox: Any, tmp_path: Path, name: str = "server") -> RawServer:
    server = RawServer(sandbox.env, sandbox.root, tmp_path / f"{name}.stderr")
    server.initialize({"window": {"workDoneProgress": True}})
    return server


def _at_step(step: str | None, token: str) -> Any:
    """A notification matcher: the `begin` (step None) or the report of `step`."""

    def matches(message: Message) -> bool:
        if message.method != "$/progress" or message.params.get("token") != token:
            return False
        value = message.params["value"]
        if step is None:
            return value["kind"] == "begin"
        return value["kind"] == "report" and value.get("message", "").startswith(step)

    return matches


@pytest.mark.parametrize("step", STEPS, ids=["begin", "volume", "create", "start"])
def test_a_cancel_at_each_step_of_run_is_minus_32800_with_nothing_new_or_the_result(
    sandbox: Any, tmp_path: Path, step: str | None
) -> None:
    server = _server(sandbox, tmp_path)
    try:
        ws = sandbox.workspace("cancelstep")
        rid = server.next_id()
        matches = _at_step(step, "t")

        def cancel_at_step(message: Message) -> None:
            if matches(message):  # from the reader thread, the moment the step is announced
                server.notify("$/cancelRequest", {"id": rid})

        server.on_notification = cancel_at_step
        server.send(
            {
                "jsonrpc": "2.0",
                "id": rid,
                "method": "containai/run",
                "params": {"workspace": str(ws), "workDoneToken": "t"},
            }
        )
        answer = server.wait(rid, 120)
        containers = sandbox.containers()
        if "error" in answer:
            assert answer["error"]["code"] == -32800, answer
            assert answer["error"]["data"]["reason"] == "cancelled"
            assert containers == [], "a cancelled run must leave no new container"
        else:
            # a cancel crosses the pipe while the run goes on: announced at the volume step,
            # it may land after the create began; the run then finishes and says so
            late = any(
                w.startswith("Cancelled after container")
                for w in answer["result"].get("warnings") or []
            )
            assert step in ("Creating container", "Starting container") or late, (step, answer)
            assert answer["result"]["action"] == "create"
            assert [c.name for c in containers] == [answer["result"]["containerName"]]
        ends = [m for m in server.notifications if _is_end(m, "t")]
        assert len(ends) == 1
        assert "error" not in server.request("containai/list", [])
    finally:
        server.close()


def _is_end(message: Message, token: str) -> bool:
    return (
        message.method == "$/progress"
        and message.params.get("token") == token
        and message.params["value"]["kind"] == "end"
    )


def test_the_progress_cancel_button_is_answered_like_cancel_request(
    sandbox: Any, tmp_path: Path
) -> None:
    server = _server(sandbox, tmp_path)
    try:
        ws = sandbox.workspace("cancelbutton")
        with locked(normalize_path(str(ws))):  # the run waits for the workspace meanwhile
            rid = server.start_request(
                "containai/run", {"workspace": str(ws), "workDoneToken": "b"}
            )
            server.wait_notification(_at_step(None, "b"), 60)
            server.notify("window/workDoneProgress/cancel", {"token": "b"})
        answer = server.wait(rid, 120)
        assert answer["error"]["code"] == -32800, answer
        assert answer["error"]["data"]["reason"] == "cancelled"
        assert sandbox.containers() == []
    finally:
        server.close()


@pytest.mark.parametrize("step", ["Preparing data volume", "Starting container"])
def test_a_client_killed_mid_run_ends_the_server_at_once_and_quietly(
    sandbox: Any, tmp_path: Path, step: str
) -> None:
    server = _server(sandbox, tmp_path)
    ws = sandbox.workspace("killed")
    closed_at: list[float] = []
    closed = threading.Event()
    matches = _at_step(step, "k")

    def close_stdin_at_step(message: Message) -> None:
        if matches(message) and not closed.is_set():
            closed.set()
            assert server.proc.stdin is not None
            server.proc.stdin.close()  # as a killed client's end of the pipe closes
            closed_at.append(time.monotonic())

    server.on_notification = close_stdin_at_step
    server.start_request("containai/run", {"workspace": str(ws), "workDoneToken": "k"})
    try:
        server.proc.wait(timeout=30)
        exited_at = time.monotonic()
    finally:
        server.close()
    assert closed_at, "the step never came"
    assert exited_at - closed_at[0] < 1.0, f"exited {exited_at - closed_at[0]:.2f} s after EOF"
    assert server.proc.returncode == 0
    lines = [line for line in server.stderr_text().splitlines() if line.strip()]
    assert len(lines) <= 1, lines
    containers = sandbox.containers()
    assert len(containers) <= 1, containers
    if containers:  # past the point of no return: the container is the only change
        again = _server(sandbox, tmp_path, "again")
        try:
            listed = again.result("containai/list", {})
        finally:
            again.close()
        names = [row["name"] for row in listed["containers"]]
        assert containers[0].name in names


def test_empty_array_params_are_no_params_and_others_are_named(
    sandbox: Any, tmp_path: Path
) -> None:
    server = _server(sandbox, tmp_path)
    try:
        listed = server.request("containai/list", [])
        assert "containers" in listed["result"], listed
        refused = server.request("containai/list", [1, 2])
        assert refused["error"]["code"] == -32602
        assert refused["error"]["message"] == "params must be an object, got an array of 2 items"
    finally:
        server.close()


def test_a_request_nested_100k_levels_deep_gets_an_error_with_its_id(
    sandbox: Any, tmp_path: Path
) -> None:
    server = _server(sandbox, tmp_path)
    try:
        deep = b"[" * 100_000 + b"]" * 100_000
        body = b'{"jsonrpc": "2.0", "id": "deep-1", "method": "containai/list", "params": '
        server.send_raw(frame(body + deep + b"}"))
        answer = server.wait("deep-1", 60)
        assert answer["error"]["code"] == -32600
        assert "nested deeper than" in answer["error"]["message"]
        server.assert_serving()
        assert "RecursionError" not in server.stderr_text()
    finally:
        server.close()


@pytest.mark.parametrize(
    "count", [3_000, pytest.param(100_000, marks=pytest.mark.slow)], ids=["3k", "100k"]
)
def test_a_flood_of_identical_bad_notifications_logs_a_bounded_number_of_lines(
    sandbox: Any, tmp_path: Path, count: int
) -> None:
    env = {**sandbox.env, "CONTAINAI_LOG_LEVEL": "INFO"}
    server = RawServer(env, sandbox.root, tmp_path / "flood.stderr")
    try:
        server.initialize()
        bad = frame(b'{"jsonrpc": "2.0", "method": "containai/list", "params": 7}')
        server.send_raw(bad * count)
        server.assert_serving(timeout=300)
    finally:
        server.close()
    lines = server.stderr_text().splitlines()
    records = [line for line in lines if line[:4].isdigit()]  # each starts with its time
    assert len(records) <= 20, records
    assert len(lines) < 1000, len(lines)  # tracebacks included

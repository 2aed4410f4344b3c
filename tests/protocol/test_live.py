"""Live state over the protocol: Docker events → containerChanged, engine health, progress
and cancellation — the real server (pytest-lsp) on the real engine.

Timings are not asserted here except where a deadline is the requirement itself (engine
down → `error` within 5 s); latency and idle cost are measured by bench/bench_events.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from containai_rpc.engine.events import parse_event
from containai_rpc.engine.models import ContainerInfo
from containai_rpc.protocol.models import ContainerSummary
from containai_rpc.server.notify import CONTAINER_CHANGED, ENGINE_STATUS
from containai_rpc.service.livecache import LiveCache, change_kind
from containai_rpc.service.summary import KeepPolicy, iso, to_summary
from containai_rpc.workspace.locks import locked
from containai_rpc.workspace.paths import normalize_path

if TYPE_CHECKING:  # fixtures come from tests/protocol/conftest.py, by name
    from tests.support.lsp_client import CaiClient, StartServer

TINY_IMAGE = "containai-test-tiny:latest"


async def docker_cli(*args: str, host: str | None = None) -> str:
    """A plain `docker` command, as a user would type it in a terminal (the client keeps
    receiving notifications meanwhile)."""
    argv = ["docker", *(["-H", host] if host else []), *args]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, f"{argv}: {err.decode()}"
    return out.decode().strip()


async def managed_container(
    workspace: Path, *, host: str | None = None, start: bool = False
) -> str:
    """A managed container made outside the server (cheap: the tiny image)."""
    name = f"live-{uuid.uuid4().hex[:10]}"
    labels = ["containai.managed=true", f"containai.workspace={workspace}"]
    await docker_cli(
        "run" if start else "create",
        *(["-d"] if start else []),
        *[arg for label in labels for arg in ("--label", label)],
        "--name",
        name,
        TINY_IMAGE,
        host=host,
    )
    return name


def named(name: str, kind: str | None = None) -> Any:
    """A containerChanged filter: this container (and this kind)."""
    return lambda p: p["container"]["name"] == name and (kind is None or p["kind"] == kind)


def assert_no_gaps(client: CaiClient, first: int) -> None:
    revisions = [c["revision"] for c in client.changes()]
    assert revisions == list(range(first, first + len(revisions))), revisions


# --------------------------------------------------------------------------- external changes


async def test_docker_commands_outside_the_server_are_pushed(cai: CaiClient, sandbox: Any) -> None:
    status = await cai.expect(ENGINE_STATUS)
    assert status["health"] == "ok" and status["context"] == "default"
    assert status["endpoint"]
    listed = await cai.request("containai/list")
    name = await managed_container(sandbox.workspace("outside"), start=True)
    created = await cai.expect(CONTAINER_CHANGED, named(name))
    assert created["kind"] == "created" and created["container"]["status"] == "running"

    await docker_cli("stop", name)
    stopped = await cai.expect(CONTAINER_CHANGED, named(name))
    assert stopped["kind"] == "stopped"
    assert (stopped["container"]["status"], stopped["container"]["dockerState"]) == (
        "stopped",
        "exited",
    )
    now = await cai.request("containai/list")  # answered by the live cache
    assert now["revision"] == stopped["revision"]
    mine = [c for c in now["containers"] if c["name"] == name]
    assert mine == [stopped["container"]]

    await docker_cli("start", name)
    started = await cai.expect(CONTAINER_CHANGED, named(name))
    assert started["kind"] == "started" and started["container"]["status"] == "running"

    await docker_cli("rm", "-f", name)  # kill, die, destroy: a `stopped` may come first
    removed = await cai.expect(CONTAINER_CHANGED, named(name, "removed"))
    assert removed["container"]["status"] == "removed"
    assert removed["container"]["id"] == created["container"]["id"]
    assert_no_gaps(cai, listed["revision"] + 1)


async def test_burst_ends_in_the_final_state_without_revision_gaps(
    cai: CaiClient, sandbox: Any
) -> None:
    await cai.expect(ENGINE_STATUS)
    listed = await cai.request("containai/list")
    name = await managed_container(sandbox.workspace("burst"))
    await cai.expect(CONTAINER_CHANGED, named(name, "created"))

    await docker_cli("start", name)
    await docker_cli("stop", name)
    await docker_cli("start", name)
    final = iso(await docker_cli("inspect", "-f", "{{.State.StartedAt}}", name))

    # Event-driven: after every notification, is the burst's final state the last thing
    # pushed about this container, with the cache agreeing and nothing still in flight?
    # (Anything still pending would re-read that same state: no further notification.)
    deadline = time.monotonic() + 10
    while True:
        ours = [c for c in cai.changes() if c["container"]["name"] == name]
        last = ours[-1]["container"]
        if last["status"] == "running" and last["startedAt"] == final:
            now = await cai.request("containai/list")
            cached = [c for c in now["containers"] if c["name"] == name]
            if cached == [last] and now["revision"] == cai.changes()[-1]["revision"]:
                break
        await asyncio.wait_for(cai.notifications.get(), deadline - time.monotonic())
    assert ours[0]["kind"] == "created"
    assert_no_gaps(cai, listed["revision"] + 1)


def _running(p: dict[str, Any]) -> bool:
    return p["container"]["status"] == "running"


async def test_fresh_pushes_removed_then_recreated(cai: CaiClient, sandbox: Any) -> None:
    ws = str(sandbox.workspace("fresh"))
    first = await cai.request("containai/run", {"workspace": ws})
    name = first["containerName"]
    await cai.expect(CONTAINER_CHANGED, named(name, "created"))
    await cai.request("containai/run", {"workspace": ws, "fresh": True})
    removed = await cai.expect(CONTAINER_CHANGED, named(name, "removed"))  # after `stopped`
    assert removed["container"]["id"] == first["container"]["id"]
    recreated = await cai.expect(CONTAINER_CHANGED, named(name))
    assert recreated["kind"] == "recreated" and recreated["container"]["status"] == "running"
    assert recreated["container"]["id"] != first["container"]["id"]
    assert recreated["revision"] > removed["revision"]


# --------------------------------------------------------------------------- engine health


async def test_engine_outage_reports_error_and_recovery_resyncs(
    cai_server: StartServer, sandbox: Any, dedicated_engine: Any
) -> None:
    host = dedicated_engine.host
    cai = await cai_server({**sandbox.env, "DOCKER_HOST": host})
    ok = await cai.expect(ENGINE_STATUS)
    assert (ok["health"], ok["endpoint"]) == ("ok", host)
    name = await managed_container(sandbox.workspace("outage"), host=host, start=True)
    await cai.expect(CONTAINER_CHANGED, lambda p: named(name)(p) and _running(p))

    # A crash: dockerd goes without a word; restarted, it finds the container dead — the
    # container changed while nobody could watch it.
    containerd = int((dedicated_engine.root / "exec/containerd/containerd.pid").read_text())
    dedicated_engine.stop(kill=True)
    try:
        down = await cai.expect(ENGINE_STATUS, timeout=5)
        assert down["health"] == "error" and down["context"] == "default"
        during = await cai.request("containai/list")  # the server keeps answering
        assert during["errors"] and during["errors"][0]["context"] == "default"
    finally:
        await _gone(containerd)  # else the new dockerd waits on the dying one's socket
        dedicated_engine.start()
    back = await cai.expect(ENGINE_STATUS, timeout=30)
    assert back["health"] == "ok"
    stopped = await cai.expect(CONTAINER_CHANGED, named(name))
    assert stopped["kind"] == "stopped" and stopped["container"]["status"] == "stopped"
    after = await cai.request("containai/list")
    assert [c["status"] for c in after["containers"] if c["name"] == name] == ["stopped"]


async def _gone(pid: int, timeout: float = 10.0) -> None:
    """Poll (with a deadline) until a process has exited: the kernel sends no event."""
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- progress


def _kinds(client: CaiClient, token: int | str) -> list[str]:
    return [value.kind for value in client.progress_reports.get(token, [])]


async def test_run_with_a_token_reports_begin_steps_end(cai: CaiClient, sandbox: Any) -> None:
    cai.expect_progress("run-1")
    ws = str(sandbox.workspace("progress"))
    await cai.request("containai/run", {"workspace": ws, "workDoneToken": "run-1"})
    kinds = _kinds(cai, "run-1")
    assert kinds[0] == "begin" and kinds[-1] == "end", kinds
    assert kinds.count("begin") == 1 and kinds.count("end") == 1
    assert set(kinds[1:-1]) == {"report"}
    assert cai.progress_reports["run-1"][0].cancellable is True


async def test_progress_ends_on_error(cai: CaiClient, sandbox: Any) -> None:
    cai.expect_progress(7)
    ws = str(sandbox.workspace("broken"))
    with pytest.raises(JsonRpcException) as err:
        await cai.request(
            "containai/run",
            {"workspace": ws, "image": "containai-no-such-image:latest", "workDoneToken": 7},
        )
    assert err.value.data["reason"] == "imageNotFound"
    kinds = _kinds(cai, 7)
    assert kinds[0] == "begin" and kinds[-1] == "end", kinds


async def test_server_creates_a_token_when_the_client_sends_none(
    cai_server: StartServer, sandbox: Any
) -> None:
    capable = await cai_server()
    ws = str(sandbox.workspace("servertoken"))
    await capable.request("containai/run", {"workspace": ws})
    (token,) = capable.progress_reports  # created through window/workDoneProgress/create
    assert str(token).startswith("containai-")
    kinds = _kinds(capable, token)
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds

    unable = await cai_server(work_done_progress=False)
    await unable.request("containai/stop", {"workspace": ws})
    assert unable.progress_reports == {}


# --------------------------------------------------------------------------- cancellation


async def _cancel(client: CaiClient, msg_id: str) -> None:
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))


async def test_cancel_at_a_safe_point_changes_nothing(cai: CaiClient, sandbox: Any) -> None:
    """Cancelled while waiting for the workspace lock: stops at the next checkpoint."""
    cai.expect_progress("c-1")
    ws = sandbox.workspace("cancelsafe")
    with locked(normalize_path(str(ws))):  # another operation holds the workspace
        pending = asyncio.ensure_future(
            cai.protocol.send_request_async(
                "containai/run", {"workspace": str(ws), "workDoneToken": "c-1"}, msg_id="run-c1"
            )
        )
        await cai.next_progress("c-1", "begin")
        await _cancel(cai, "run-c1")
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(pending, 60)
    assert err.value.code == -32800 and err.value.data["reason"] == "cancelled"
    assert _kinds(cai, "c-1")[-1] == "end"
    assert sandbox.containers() == []


async def test_the_progress_cancel_button_cancels_and_the_token_serves_again(
    cai: CaiClient, sandbox: Any
) -> None:
    """`window/workDoneProgress/cancel` (the button of a `cancellable` begin) stops the
    request at its next safe point; the ended token is a fresh one for a later request."""
    cai.expect_progress("b-1")
    ws = sandbox.workspace("cancelbutton")
    params = {"workspace": str(ws), "workDoneToken": "b-1"}
    with locked(normalize_path(str(ws))):  # another operation holds the workspace
        pending = asyncio.ensure_future(cai.request("containai/run", params))
        await cai.next_progress("b-1", "begin")
        cai.protocol.notify(
            types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token="b-1")
        )
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(pending, 60)
    assert err.value.data["reason"] == "cancelled"
    assert _kinds(cai, "b-1")[-1] == "end"
    assert sandbox.containers() == []

    ran = await cai.request("containai/run", params)
    assert ran["action"] == "create"
    assert _kinds(cai, "b-1").count("begin") == 2 and _kinds(cai, "b-1")[-1] == "end"


async def test_cancel_during_fresh_keeps_exactly_one_container_and_the_volume(
    cai: CaiClient, sandbox: Any, docker_client: docker.DockerClient
) -> None:
    ws = str(sandbox.workspace("cancelfresh"))
    first = await cai.request("containai/run", {"workspace": ws})
    cai.expect_progress("f-1")
    pending = asyncio.ensure_future(
        cai.protocol.send_request_async(
            "containai/run",
            {"workspace": ws, "fresh": True, "workDoneToken": "f-1"},
            msg_id="fresh-1",
        )
    )
    await cai.next_progress("f-1", "report")
    await _cancel(cai, "fresh-1")
    try:  # past its point of no return the fresh completes; before it, it is cancelled
        outcome: Any = await asyncio.wait_for(pending, 60)
    except JsonRpcException as exc:
        outcome = exc
    containers = sandbox.containers()
    assert len(containers) == 1, containers
    assert containers[0].status == "running"
    assert docker_client.volumes.get(first["dataVolume"]) is not None
    assert containers[0].id != first["container"]["id"]  # the old one was already removed
    if isinstance(outcome, dict):  # the cancel came after the last safe point
        assert outcome["action"] == "recreate"
    else:  # cancelled during verification: the answer says what it left
        assert (outcome.code, outcome.data["reason"]) == (-32800, "cancelled")
        assert outcome.data["container"] == first["containerName"]
        assert "recreated" in outcome.message
    assert _kinds(cai, "f-1")[-1] == "end"


# --------------------------------------------------------------------------- pure parts


def _raw_event(new_shape: bool) -> dict[str, Any]:
    actor = {"ID": "c1", "Attributes": {"name": "x", "containai.managed": "true"}}
    raw: dict[str, Any] = {
        "Type": "container",
        "Action": "health_status: healthy",
        "Actor": actor,
        "scope": "local",
        "time": 1700000000,
        "timeNano": 1700000000123456789,
    }
    if not new_shape:  # API < 1.52 also sends the old top-level fields
        raw.update(status="health_status: healthy", id="c1", **{"from": "img"})
    return raw


@pytest.mark.parametrize("new_shape", [False, True])
def test_parse_event_reads_both_shapes(new_shape: bool) -> None:
    event = parse_event("ctx", _raw_event(new_shape))
    assert event is not None
    assert (event.action, event.container_id, event.time_nano) == (
        "health_status",
        "c1",
        1700000000123456789,
    )
    assert event.attributes["name"] == "x"


def test_parse_event_old_shape_without_actor() -> None:
    event = parse_event("ctx", {"status": "die", "id": "c2", "time": 5})
    assert event is not None
    assert (event.action, event.container_id, event.time_nano) == ("die", "c2", 5 * 10**9)
    assert parse_event("ctx", {"Type": "container"}) is None


def _info(cid: str, state: str, name: str = "n", started: str = "2024-01-01T00:00:00Z") -> Any:
    return ContainerInfo(
        id=cid,
        name=name,
        context="ctx",
        state=state,
        image="img",
        labels={"containai.managed": "true", "containai.workspace": "/w"},
        started_at=started,
        finished_at="2024-01-01T00:00:05Z",
    )


def _summary(state: str, started: str = "2024-01-01T00:00:00Z") -> ContainerSummary:
    return to_summary(_info("c", state, started=started), KeepPolicy())


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (_summary("exited"), _summary("running"), "started"),
        (_summary("running"), _summary("running", "2024-01-01T00:01:00Z"), "started"),
        (_summary("running"), _summary("exited"), "stopped"),
        (_summary("running"), _summary("paused"), "updated"),
        (_summary("running"), _summary("running"), None),
    ],
)
def test_change_kind(old: ContainerSummary, new: ContainerSummary, kind: str | None) -> None:
    assert change_kind(old, new) == kind


def test_cache_revisions_recreated_and_resync() -> None:
    clock = [0.0]
    cache = LiveCache(clock=lambda: clock[0])
    keep = KeepPolicy()
    assert cache.load("ctx", [_info("a", "running")], keep) == []  # first listing: silent
    assert cache.list(["ctx"], keep).revision == 0  # type: ignore[union-attr]
    removed = cache.apply("ctx", "a", None, keep)
    assert removed is not None and (removed.kind, removed.revision) == ("removed", 1)
    assert removed.container.status == "removed"
    again = cache.apply("ctx", "b", _info("b", "running"), keep)  # same name and workspace
    assert again is not None and (again.kind, again.revision) == ("recreated", 2)
    clock[0] += 3600
    cache.apply("ctx", "b", None, keep)
    clock[0] += 3600  # long after: a new container, not a re-creation
    late = cache.apply("ctx", "c", _info("c", "running"), keep)
    assert late is not None and late.kind == "created"
    cache.mark_down("ctx")
    assert cache.list(["ctx"], keep) is None  # not warm: the service answers
    diff = cache.load("ctx", [_info("c", "exited"), _info("d", "created", name="m")], keep)
    assert [(c.kind, c.container.id) for c in diff] == [("stopped", "c"), ("created", "d")]
    assert [c.revision for c in diff] == [5, 6]

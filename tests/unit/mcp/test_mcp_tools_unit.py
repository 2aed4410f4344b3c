"""The MCP face over the real service on in-memory engines, through the official SDK
client connected in-process, in both protocol eras (`legacy`: the initialize handshake
with server-to-client requests; `2026-07-28`: per-request envelopes, questions as
`InputRequiredResult` rounds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from containai_rpc.mcp_server.app import build_server
from containai_rpc.mcp_server.live import Live, status_uri
from containai_rpc.mcp_server.schemas import TOOLS, ExecArgs, WorkspaceArgs
from containai_rpc.mcp_server.scope import Scope
from containai_rpc.mcp_server.tools import Tools
from containai_rpc.protocol.models import RunResult, StatusResult
from containai_rpc.service import Service
from tests.support.fake_engine import FakeDocker

ERAS = ["legacy", "2026-07-28"]


def client(
    service: Service,
    workspaces: list[Path],
    *,
    allow: bool = False,
    roots: bool = True,
    **callbacks: Any,
) -> Client:
    scope = Scope([str(w) for w in workspaces], explicit=not roots)
    server = build_server(Tools(service, scope, allow), Live(service, scope))
    return Client(server, raise_exceptions=True, **callbacks)


def answering(action: str, confirm: bool | None, asked: list[str]) -> Callable[..., Any]:
    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        content = None if confirm is None else {"confirm": confirm}
        return types.ElicitResult(action=action, content=content)

    return elicit


def state(fake_docker: FakeDocker, workspace: Path) -> str:
    found = [
        c
        for c in fake_docker["default"].containers.values()
        if c.labels.get("containai.workspace") == str(workspace)
    ]
    return found[0].state if found else "absent"


@pytest.fixture
def ws(workspaces: Callable[[str], Path]) -> Path:
    return workspaces("app")


async def test_tools_are_listed_with_model_schemas_and_annotations(fake_service, ws):
    async with client(fake_service, [ws]) as c:
        listed = {t.name: t for t in (await c.list_tools()).tools}
    assert list(listed) == [t.name for t in TOOLS]
    status, exec_ = (listed[n] for n in ("containai_status", "containai_exec"))
    assert status.input_schema == WorkspaceArgs.model_json_schema(by_alias=True)
    assert exec_.input_schema == ExecArgs.model_json_schema(by_alias=True)
    assert exec_.input_schema["required"] == ["command"]
    assert {"timeoutSeconds", "maxOutputBytes", "env"} <= exec_.input_schema["properties"].keys()
    assert status.output_schema == StatusResult.model_json_schema(
        by_alias=True, mode="serialization"
    )
    assert listed["containai_fresh"].output_schema["title"] == RunResult.__name__
    hints = {
        n: (
            t.annotations.read_only_hint,
            t.annotations.destructive_hint,
            t.annotations.idempotent_hint,
        )
        for n, t in listed.items()
    }
    assert hints == {
        "containai_status": (True, False, True),
        "containai_list": (True, False, True),
        "containai_run": (False, False, True),
        "containai_exec": (False, False, False),
        "containai_stop": (False, True, True),
        "containai_fresh": (False, True, False),
    }


@pytest.mark.parametrize("mode", ERAS)
async def test_run_status_list_through_the_service(fake_service, fake_docker, ws, mode):
    async with client(fake_service, [ws], mode=mode) as c:
        run = await c.call_tool("containai_run", {})
        assert not run.is_error, run.content
        assert run.structured_content["action"] == "create"
        assert run.structured_content["workspace"] == str(ws)
        status = await c.call_tool("containai_status", {"workspace": str(ws)})
        assert status.structured_content["status"] == "running"
        listed = await c.call_tool("containai_list", {})
        names = [x["name"] for x in listed.structured_content["containers"]]
        assert names == [run.structured_content["containerName"]]
        read = await c.read_resource(status_uri(str(ws)))
        assert '"status": "running"' in read.contents[0].text
    assert state(fake_docker, ws) == "running"


@pytest.mark.parametrize("mode", ERAS)
async def test_a_workspace_outside_the_scope_is_refused(
    fake_service, fake_docker, ws, workspaces, mode
):
    other = workspaces("other")
    async with client(fake_service, [ws], mode=mode) as c:
        refused = await c.call_tool("containai_run", {"workspace": str(other)})
    assert refused.is_error
    assert f"Workspace {other} is not one this MCP server may act on" in refused.content[0].text
    assert state(fake_docker, other) == "absent"


@pytest.mark.parametrize("mode", ERAS)
async def test_client_roots_are_the_workspaces(fake_service, fake_docker, ws, workspaces, mode):
    root = workspaces("rooted")

    async def roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=root.as_uri())])

    async with client(fake_service, [ws], mode=mode, list_roots_callback=roots) as c:
        run = await c.call_tool("containai_run", {})
        refused = await c.call_tool("containai_status", {"workspace": str(ws)})
    assert run.structured_content["workspace"] == str(root)
    assert refused.is_error  # the server's cwd is not in scope when the client has roots
    assert (state(fake_docker, root), state(fake_docker, ws)) == ("running", "absent")


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("tool", ["containai_stop", "containai_fresh"])
async def test_destructive_without_elicitation_or_flag_is_refused(
    fake_service, fake_docker, ws, mode, tool
):
    async with client(fake_service, [ws], mode=mode) as c:
        created = (await c.call_tool("containai_run", {})).structured_content
        refused = await c.call_tool(tool, {})
        after = (await c.call_tool("containai_status", {})).structured_content
    assert refused.is_error
    text = refused.content[0].text
    assert f"{tool} is destructive" in text and "cannot ask its user" in text
    assert "--allow-destructive" in text and "nothing changed" in text
    assert (after["id"], after["status"]) == (created["container"]["id"], "running")


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize(
    ("action", "confirm"), [("decline", None), ("accept", False), ("cancel", None)]
)
async def test_destructive_answered_no_changes_nothing(
    fake_service, fake_docker, ws, mode, action, confirm
):
    asked: list[str] = []
    elicit = answering(action, confirm, asked)
    async with client(fake_service, [ws], mode=mode, elicitation_callback=elicit) as c:
        created = (await c.call_tool("containai_run", {})).structured_content
        stop = await c.call_tool("containai_stop", {})
        fresh = await c.call_tool("containai_fresh", {})
        after = (await c.call_tool("containai_status", {})).structured_content
    assert stop.is_error and fresh.is_error
    assert "The user declined containai_stop; nothing was changed." in stop.content[0].text
    assert len(asked) == 2 and f"stops the container of {ws}" in asked[0]
    assert (after["id"], after["status"]) == (created["container"]["id"], "running")


@pytest.mark.parametrize("mode", ERAS)
async def test_destructive_confirmed_or_allowed_by_flag(fake_service, fake_docker, ws, mode):
    asked: list[str] = []
    elicit = answering("accept", True, asked)
    async with client(fake_service, [ws], mode=mode, elicitation_callback=elicit) as c:
        created = (await c.call_tool("containai_run", {})).structured_content
        fresh = await c.call_tool("containai_fresh", {})
        assert fresh.structured_content["action"] == "recreate"
        assert fresh.structured_content["container"]["id"] != created["container"]["id"]
        stop = await c.call_tool("containai_stop", {})
    assert stop.structured_content["results"][0]["action"] == "stopped"
    assert len(asked) == 2 and state(fake_docker, ws) == "exited"
    async with client(fake_service, [ws], mode=mode, allow=True) as c:  # no elicitation
        await c.call_tool("containai_run", {})
        stop = await c.call_tool("containai_stop", {})
    assert stop.structured_content["results"][0]["action"] == "stopped"


async def test_bad_arguments_are_a_clear_tool_error(fake_service, ws):
    async with client(fake_service, [ws]) as c:
        bad = await c.call_tool("containai_exec", {"command": [], "timeoutSeconds": -1})
        unknown = await c.call_tool("containai_reset", {})
    assert bad.is_error and bad.content[0].text.startswith("Invalid arguments: command:")
    assert "timeoutSeconds" in bad.content[0].text
    assert unknown.is_error and "Unknown tool 'containai_reset'" in unknown.content[0].text


async def test_list_shows_only_the_allowed_workspaces(fake_service, fake_docker, ws):
    fake_docker["default"].add_container("elsewhere-main", workspace="/some/other/project")
    async with client(fake_service, [ws]) as c:
        before = await c.call_tool("containai_list", {})
        await c.call_tool("containai_run", {})
        after = await c.call_tool("containai_list", {})
    assert before.structured_content["containers"] == []
    assert [x["workspace"] for x in after.structured_content["containers"]] == [str(ws)]

"""The CLI end to end on the real engine: `cai` starts the server, runs, lists and stops."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.engine


def _json(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_dry_run_names_the_container_and_creates_nothing(sandbox):
    ws = sandbox.workspace("myapp", branch="feature/oauth")
    result = _json(sandbox.cai("run", "--dry-run", "--json", "--workspace", str(ws)))
    assert result["containerName"] == "myapp-oauth"
    assert result["action"] == "create"
    assert result["dryRun"] is True
    assert sandbox.containers() == []
    assert not [v for v in sandbox.client.volumes.list() if v.name == sandbox.volume]
    assert not sandbox.config_file.read_text().count("[workspace.")


def test_run_creates_attaches_and_restarts_the_same_container(sandbox):
    ws = sandbox.workspace("shop", branch="main")
    first = _json(sandbox.cai("run", "--json", cwd=ws))
    assert first["action"] == "create" and first["state"] == "running"
    [container] = sandbox.containers()
    labels = container.labels
    assert labels["containai.managed"] == "true"
    assert labels["containai.workspace"] == str(ws)
    assert labels["containai.data-volume"] == sandbox.volume
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert mounts["/mnt/agent-data"]["Name"] == sandbox.volume
    assert mounts["/home/agent/workspace"]["Source"] == str(ws)
    assert container.attrs["Config"]["Hostname"] == "shop-main"

    second = _json(sandbox.cai("run", "--json", cwd=ws))
    assert second["action"] == "attach"
    assert [c.id for c in sandbox.containers()] == [container.id]

    assert sandbox.cai("stop", cwd=ws).returncode == 0
    container.reload()
    assert container.status == "exited"
    third = _json(sandbox.cai("run", "--json", cwd=ws))
    assert third["action"] == "start"
    assert third["container"]["id"] == container.id
    assert third["dataVolume"] == sandbox.volume
    assert [c.id for c in sandbox.containers()] == [container.id]


def test_same_basename_and_branch_get_two_containers(sandbox):
    a = sandbox.workspace("app", parent="a")
    b = sandbox.workspace("app", parent="b")
    ra = _json(sandbox.cai("run", "--json", cwd=a))
    rb = _json(sandbox.cai("run", "--json", cwd=b))
    assert ra["containerName"] == "app-main"
    assert rb["containerName"] == "app-main-2"
    assert ra["container"]["id"] != rb["container"]["id"]
    # Stopping b's workspace leaves a's container running, and a attaches to its own.
    assert sandbox.cai("stop", cwd=b).returncode == 0
    states = {c.name: c.status for c in sandbox.containers()}
    assert states == {"app-main": "running", "app-main-2": "exited"}
    again = _json(sandbox.cai("run", "--json", cwd=a))
    assert again["action"] == "attach" and again["container"]["id"] == ra["container"]["id"]


def test_status_and_list_agree_with_docker_inspect(sandbox):
    ws = sandbox.workspace("agree")
    _json(sandbox.cai("run", "--json", cwd=ws))
    [container] = sandbox.containers()
    status = _json(sandbox.cai("status", "--json", cwd=ws))
    listing = _json(sandbox.cai("list", "--json"))
    row = next(c for c in listing["containers"] if c["id"] == container.id)
    attrs = container.attrs
    assert row["name"] == attrs["Name"].lstrip("/")
    assert row["dockerState"] == attrs["State"]["Status"] == "running"
    assert row["status"] == "running"
    assert row["image"] == attrs["Config"]["Image"]
    assert row["workspace"] == str(ws)
    assert row["startedAt"][:19] == attrs["State"]["StartedAt"][:19]
    assert row["createdAt"][:19] == attrs["Created"][:19]
    # `status --json` is the original tool's object
    assert status["container"] == row["name"]
    assert status["status"] == attrs["State"]["Status"]
    assert status["image"] == row["image"]
    assert status["workspace"] == row["workspace"]


def test_unknown_and_invalid_names_fail_cleanly(sandbox):
    missing = sandbox.cai("status", "--container", "does-not-exist")
    assert missing.returncode == 1
    assert "does-not-exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    invalid = sandbox.cai("status", "--container", "bad name!")
    assert invalid.returncode == 1
    assert "Invalid container name" in invalid.stderr


def test_invalid_name_is_refused_before_docker_is_called(sandbox, monkeypatch):
    # With the engine unreachable, a bad name must still be reported as a bad name.
    from containai_rpc.errors import DomainError
    from containai_rpc.protocol.models import StatusParams
    from containai_rpc.service import Service

    monkeypatch.setenv("DOCKER_HOST", f"unix://{sandbox.root}/no-such.sock")
    with pytest.raises(DomainError) as err:
        Service().status(StatusParams(container="bad name!"))
    assert err.value.reason == "invalidName"
    with pytest.raises(DomainError) as err:
        Service().status(StatusParams(container="fine-name"))
    assert err.value.reason == "engineUnavailable"


def test_foreign_containers_are_never_stopped_or_listed(sandbox):
    ws = sandbox.workspace("foreign")
    stranger = sandbox.client.containers.run(
        "containai-test-tiny:latest",
        name=f"foreign-{sandbox.volume}",
        labels={"containai.workspace": str(ws), "containai.managed": "false"},
        detach=True,
    )
    try:
        listing = _json(sandbox.cai("list", "--json"))
        assert stranger.id not in {c["id"] for c in listing["containers"]}
        refused = sandbox.cai("stop", "--container", stranger.name)
        assert refused.returncode == 1 and "not managed" in refused.stderr
        # run for that workspace creates its own container instead of adopting the stranger
        created = _json(sandbox.cai("run", "--json", cwd=ws))
        assert created["action"] == "create" and created["container"]["id"] != stranger.id
        stranger.reload()
        assert stranger.status == "running"
    finally:
        stranger.remove(force=True)


def test_wrong_param_types_name_the_field_and_the_server_keeps_serving(sandbox):
    import asyncio

    from containai_rpc.cli.session import RpcError, Session

    async def go() -> None:
        async with Session() as s:
            for params, field in (
                ({"dryRun": "yes"}, "dryRun"),
                ({"container": 42}, "container"),
                ({"workspace": ["a"]}, "workspace"),
            ):
                with pytest.raises(RpcError) as err:
                    await s.request("containai/run", params)
                assert err.value.code == -32602
                assert err.value.reason == "invalidParams"
                assert field in err.value.message
                assert [e["loc"] for e in err.value.data["errors"]] == [[field]]
            listed = await s.request("containai/list", {})  # same server, still serving
            assert "containers" in listed

    asyncio.run(go())

"""`run`'s refusals and failures on the real engine, each with its reason, the facts its
message names, and proof that nothing else changed: `startTimeout`, `unexpectedState`,
`multipleContainers`, `workspaceMismatch` (stop/status), `isolationUnavailable`, and the
`--restart` alias of `--fresh`.

Most go through the service in this process (the CLI costs ~1 s of start-up per call);
the alias is a CLI spelling, so it goes through `cai`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams, StatusParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import Service
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.verify import RUNNING_DEADLINE_S
from containai_rpc.workspace.state import update_workspace_state
from tests.support.engines import TINY_IMAGE

pytestmark = pytest.mark.engine


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def call(operation: str, params: Any, hooks: Hooks | None = None) -> dict[str, Any]:
    service = Service()
    try:
        return getattr(service, operation)(params, hooks).wire()
    finally:
        service.close()


def fails(operation: str, params: Any, hooks: Hooks | None = None) -> DomainError:
    with pytest.raises(DomainError) as err:
        call(operation, params, hooks)
    return err.value


def run(ws: Path, **params: Any) -> dict[str, Any]:
    return call("run", RunParams(workspace=str(ws), **params))


def snapshot(sandbox) -> dict[str, tuple[str, str]]:
    """Every container of the sandbox: name → (id, state)."""
    return {c.name: (c.id, c.status) for c in sandbox.containers()}


def volumes(sandbox) -> set[str]:
    return {v.name for v in sandbox.client.volumes.list() if v.name.startswith(sandbox.volume)}


def managed_by_hand(sandbox, name: str, ws: Path, volume: str) -> Any:
    """A container carrying our labels that `run` did not create (as an older or a
    concurrent client could leave behind)."""
    return sandbox.client.containers.run(
        TINY_IMAGE,
        name=name,
        detach=True,
        labels={
            "containai.managed": "true",
            "containai.workspace": str(ws),
            "containai.data-volume": volume,
        },
        volumes={volume: {"bind": "/mnt/agent-data", "mode": "rw"}},
    )


def test_start_timeout_names_the_state_and_leaves_the_container(sandbox):
    """A container that is started but never reaches `running` (paused right after its
    start, before the first state poll) fails with `startTimeout` after the running
    deadline; the container, its volume and the workspace state stay as they were."""
    ws = sandbox.workspace("slow")
    name = run(ws)["containerName"]
    sandbox.client.containers.get(name).stop(timeout=1)
    before = sandbox.client.containers.get(name)
    state_before = sandbox.config_file.read_text()
    seen: list[str] = []

    def progress(message: str) -> None:
        seen.append(message)

    def cancelled() -> bool:  # the first safe point after `docker start` returned
        if any(m.startswith("Starting container") for m in seen) and "paused" not in seen:
            seen.append("paused")
            sandbox.client.containers.get(name).pause()
        return False

    err = fails("run", RunParams(workspace=str(ws)), Hooks(progress=progress, cancelled=cancelled))

    assert err.reason == "startTimeout"
    assert f"'{name}'" in err.message
    assert f"within {RUNNING_DEADLINE_S:.0f} s" in err.message
    assert "(state: paused)" in err.message
    assert err.hint == f"See 'docker logs {name}'."
    after = sandbox.client.containers.get(name)
    assert (after.id, after.status) == (before.id, "paused")
    assert [c.name for c in sandbox.containers()] == [name]
    assert volumes(sandbox) == {sandbox.volume}
    assert sandbox.config_file.read_text() == state_before


def test_unexpected_state_refuses_a_paused_container_and_fresh_recovers(sandbox):
    ws = sandbox.workspace("paused")
    first = run(ws)
    name, first_id = first["containerName"], first["container"]["id"]
    container = sandbox.client.containers.get(name)
    container.exec_run(["sh", "-c", "echo kept > /mnt/agent-data/marker"])
    container.pause()
    state_before = sandbox.config_file.read_text()

    err = fails("run", RunParams(workspace=str(ws)))

    assert err.reason == "unexpectedState"
    assert err.message == f"Unexpected container state: paused ({name})"
    assert err.hint and "fresh" in err.hint
    container.reload()
    assert (container.id, container.status) == (first_id, "paused")
    assert [c.name for c in sandbox.containers()] == [name]
    assert sandbox.config_file.read_text() == state_before

    # the way out the hint names: a fresh run recreates it on the same volume
    fresh = run(ws, fresh=True)
    assert fresh["action"] == "recreate" and fresh["containerName"] == name
    assert fresh["container"]["id"] != first_id and fresh["dataVolume"] == sandbox.volume
    code, out = sandbox.client.containers.get(name).exec_run(["cat", "/mnt/agent-data/marker"])
    assert (code, out.decode().strip()) == (0, "kept")


def test_multiple_containers_for_one_workspace_are_refused(sandbox):
    """Two managed containers labelled with the workspace and no state naming either: run
    will not guess; both stay as they are and nothing new is created."""
    ws = sandbox.workspace("twins")
    token = sandbox.volume.removeprefix("cai-test-")
    a = managed_by_hand(sandbox, f"twin-a-{token}", ws, sandbox.volume)
    b = managed_by_hand(sandbox, f"twin-b-{token}", ws, sandbox.volume)
    before = snapshot(sandbox)

    err = fails("run", RunParams(workspace=str(ws)))

    assert err.reason == "multipleContainers"
    assert err.message == f"Multiple containers found for workspace: {ws} ({a.name} {b.name})"
    assert err.hint and "container" in err.hint
    assert snapshot(sandbox) == before
    assert volumes(sandbox) == {sandbox.volume}
    assert not sandbox.config_file.read_text().count("container_name")

    # naming one, as the hint says, works and leaves the other alone
    picked = call("run", RunParams(container=a.name))
    assert (picked["action"], picked["containerName"]) == ("attach", a.name)
    b.reload()
    assert (b.id, b.status) == (before[b.name][0], "running")


def test_workspace_mismatch_when_the_state_names_another_workspaces_container(sandbox):
    """stop/status of workspace A whose state names workspace B's container fail with
    `workspaceMismatch` rather than stop B's; `run` in A creates A's own container."""
    ws_a, ws_b = sandbox.workspace("mine"), sandbox.workspace("theirs")
    theirs = run(ws_b)["containerName"]
    update_workspace_state(str(ws_a), container_name=theirs)

    for operation, params in (
        ("stop", StopParams(workspace=str(ws_a))),
        ("status", StatusParams(workspace=str(ws_a))),
    ):
        err = fails(operation, params)
        assert err.reason == "workspaceMismatch", operation
        assert err.message == (
            f"Container '{theirs}' belongs to workspace '{ws_b}', not {ws_a}."
        ), operation
        assert err.details.get("container") == theirs
        assert err.hint and theirs in err.hint
        assert sandbox.client.containers.get(theirs).status == "running", operation

    # run judges only its own container: it creates one for A and leaves B's alone
    mine = run(ws_a)
    assert mine["action"] == "create" and mine["containerName"] != theirs
    assert sandbox.client.containers.get(theirs).status == "running"


def test_run_refuses_reduced_isolation_without_opt_in(sandbox, monkeypatch):
    """No Sysbox on this engine, no `allowReducedIsolation`, no env or config opt-in:
    nothing is created — and a fresh run that would fail the same way removes nothing."""
    if "sysbox-runc" in (sandbox.client.info().get("Runtimes") or {}):
        pytest.skip("this engine offers sysbox-runc")
    ws = sandbox.workspace("strict")
    existing = run(ws)  # with the sandbox's env opt-in
    name, first_id = existing["containerName"], existing["container"]["id"]
    assert existing["isolation"] == "runc-reduced"
    del sandbox.env["CONTAINAI_ALLOW_REDUCED_ISOLATION"]
    monkeypatch.delenv("CONTAINAI_ALLOW_REDUCED_ISOLATION")
    state_before = sandbox.config_file.read_text()

    other = sandbox.workspace("strict-new")
    err = fails("run", RunParams(workspace=str(other)))
    assert err.reason == "isolationUnavailable"
    assert "sysbox-runc" in err.message and "'default'" in err.message
    assert err.hint and "allowReducedIsolation" in err.hint
    assert [c.name for c in sandbox.containers()] == [name]

    err = fails("run", RunParams(workspace=str(ws), fresh=True))
    assert err.reason == "isolationUnavailable"
    container = sandbox.client.containers.get(name)
    assert (container.id, container.status) == (first_id, "running")
    assert volumes(sandbox) == {sandbox.volume}
    assert sandbox.config_file.read_text() == state_before

    # attaching needs no isolation decision; the opt-in in the request creates again
    assert run(ws)["action"] == "attach"
    created = run(other, allow_reduced_isolation=True)
    assert created["action"] == "create" and created["isolation"] == "runc-reduced"


def test_restart_is_the_fresh_alias(sandbox):
    ws = sandbox.workspace("alias")
    first = _json(sandbox.cai("run", "--json", cwd=ws))
    name, first_id = first["containerName"], first["container"]["id"]
    sandbox.client.containers.get(name).exec_run(["sh", "-c", "echo kept > /mnt/agent-data/marker"])

    restarted = _json(sandbox.cai("run", "--restart", "--json", cwd=ws))
    assert restarted["action"] == "recreate"
    assert restarted["containerName"] == name
    assert restarted["dataVolume"] == first["dataVolume"] == sandbox.volume
    assert restarted["container"]["id"] != first_id
    code, out = sandbox.client.containers.get(name).exec_run(["cat", "/mnt/agent-data/marker"])
    assert (code, out.decode().strip()) == (0, "kept")
    assert [c.name for c in sandbox.containers()] == [name]
    assert volumes(sandbox) == {sandbox.volume}

    # exactly like --fresh: the same dry-run plan, and the two together are not a conflict
    dry_restart = _json(sandbox.cai("run", "--restart", "--dry-run", "--json", cwd=ws))
    dry_fresh = _json(sandbox.cai("run", "--fresh", "--dry-run", "--json", cwd=ws))
    assert dry_restart == dry_fresh
    assert dry_restart["action"] == "recreate"
    proc = sandbox.cai("run", "--restart", "--reset", cwd=ws)
    assert proc.returncode != 0 and "--reset" in proc.stderr

"""The container lifecycle on the real engine: fresh, reset, remove, stop --all, sessions,
volume resolution, concurrency and bad input — and no volume is ever lost."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from containai_rpc.cli.session import RpcError, Session
from tests.support.terminal import cai_on_pty

pytestmark = pytest.mark.engine


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _exec(sandbox, container: str, *argv: str) -> str:
    c = sandbox.client.containers.get(container)
    code, out = c.exec_run(list(argv))
    assert code == 0, out
    return out.decode()


def _read_marker(sandbox, volume: str) -> str:
    """Read the marker file straight from the volume with a throwaway container."""
    out = sandbox.client.containers.run(
        "containai-test-tiny:latest",
        ["cat", "/v/marker"],
        volumes={volume: {"bind": "/v", "mode": "ro"}},
        remove=True,
    )
    return out.decode().strip()


def _volume_exists(sandbox, name: str) -> bool:
    return any(v.name == name for v in sandbox.client.volumes.list())


def rpc(method: str, params: dict[str, Any], **session: Any) -> Any:
    """One request over the real protocol (our pygls client, a real server process)."""

    async def go() -> Any:
        async with Session(**session) as s:
            return await s.request(method, params)

    return asyncio.run(go())


def rpc_error(method: str, params: dict[str, Any], **session: Any) -> RpcError:
    with pytest.raises(RpcError) as err:
        rpc(method, params, **session)
    return err.value


def test_volume_persistence_rules(sandbox):
    ws = sandbox.workspace("persist")
    created = _json(sandbox.cai("run", "--json", cwd=ws))
    name, first_id = created["containerName"], created["container"]["id"]
    _exec(sandbox, name, "sh", "-c", "echo precious > /mnt/agent-data/marker")

    # cai stop: stopped, volume preserved
    assert sandbox.cai("stop", cwd=ws).returncode == 0
    assert sandbox.client.containers.get(name).status == "exited"
    assert _read_marker(sandbox, sandbox.volume) == "precious"

    # cai --fresh: recreated (new id, same name, same volume)
    fresh = _json(sandbox.cai("--fresh", "--json", cwd=ws))
    assert fresh["action"] == "recreate"
    assert fresh["containerName"] == name
    assert fresh["dataVolume"] == sandbox.volume
    assert fresh["container"]["id"] != first_id
    assert _exec(sandbox, name, "cat", "/mnt/agent-data/marker").strip() == "precious"

    # cai stop --remove: removed, volume preserved
    removed = _json(sandbox.cai("stop", "--remove", "--json", cwd=ws))
    assert [r["action"] for r in removed["results"]] == ["removed"]
    assert sandbox.containers() == []
    assert _read_marker(sandbox, sandbox.volume) == "precious"

    # cai --reset: recreated on a new, empty volume; the old one is kept with its file
    _json(sandbox.cai("run", "--json", cwd=ws))
    reset = _json(sandbox.cai("--reset", "--json", cwd=ws))
    sandbox.extra_volumes.add(reset["dataVolume"])
    assert reset["dataVolume"] != sandbox.volume
    assert reset["dataVolume"].startswith("persist-main-")
    code, _ = sandbox.client.containers.get(name).exec_run(["cat", "/mnt/agent-data/marker"])
    assert code != 0  # the new volume is empty
    assert _read_marker(sandbox, sandbox.volume) == "precious"
    state = sandbox.config_file.read_text()
    assert f'data_volume = "{reset["dataVolume"]}"' in state and "created_at" in state

    # A second reset really gives another volume; the run after it keeps using it
    again = _json(sandbox.cai("run", "--reset", "--json", cwd=ws))
    sandbox.extra_volumes.add(again["dataVolume"])
    assert again["dataVolume"] != reset["dataVolume"]
    assert _volume_exists(sandbox, reset["dataVolume"])
    attach = _json(sandbox.cai("run", "--json", cwd=ws))
    assert attach["action"] == "attach" and attach["dataVolume"] == again["dataVolume"]


def test_stop_all_touches_only_managed_and_remove_keeps_volumes(sandbox, dedicated_engine):
    sandbox.env["DOCKER_HOST"] = dedicated_engine.host
    client = dedicated_engine.client()
    names = []
    for n in range(3):
        ws = sandbox.workspace(f"all{n}")
        names.append(_json(sandbox.cai("run", "--json", cwd=ws))["containerName"])
    stranger = client.containers.run(
        "containai-test-tiny:latest",
        name="stranger",
        detach=True,
        labels={"containai.managed": "false"},
    )
    stopped = _json(sandbox.cai("stop", "--all", "--json"))
    assert sorted(r["containerName"] for r in stopped["results"]) == sorted(names)
    assert {r["action"] for r in stopped["results"]} == {"stopped"}
    stranger.reload()
    assert stranger.status == "running"
    assert {c.name: c.status for c in client.containers.list(all=True)} == {
        **dict.fromkeys(names, "exited"),
        "stranger": "running",
    }
    volumes_before = {v.name for v in client.volumes.list()}
    removed = _json(sandbox.cai("stop", "--all", "--remove", "--json"))
    assert {r["action"] for r in removed["results"]} == {"removed"}
    assert [c.name for c in client.containers.list(all=True)] == ["stranger"]
    assert {v.name for v in client.volumes.list()} == volumes_before
    client.close()


def _open_fake_ssh_session(sandbox, name: str) -> None:
    """An established TCP connection to port 22 inside the container (what sshd has)."""
    c = sandbox.client.containers.get(name)
    c.exec_run(["sh", "-c", "while :; do sleep 1; done | nc -l -p 22 > /dev/null"], detach=True)
    c.exec_run(["sh", "-c", "while :; do sleep 1; done | nc 127.0.0.1 22"], detach=True)
    from containai_rpc.engine import EngineSet
    from containai_rpc.service.sessions import detect_sessions

    engine = EngineSet().get()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        counts = detect_sessions(engine, c.id)
        if counts is not None and counts.active:
            return
        time.sleep(0.05)  # bounded poll for the connection to be established
    pytest.fail("the session never became visible")


def test_stop_with_active_session_asks_first(sandbox):
    ws = sandbox.workspace("sessions")
    name = _json(sandbox.cai("run", "--json", cwd=ws))["containerName"]
    _open_fake_ssh_session(sandbox, name)
    asked: list[str] = []

    def decline(message: str, actions: list[str]) -> str | None:
        asked.append(message)
        return None

    def accept(message: str, actions: list[str]) -> str | None:
        asked.append(message)
        return actions[0]

    # A client that cannot confirm gets confirmationRequired; nothing is stopped.
    err = rpc_error("containai/stop", {"workspace": str(ws)})
    assert err.reason == "confirmationRequired"
    assert "may have active sessions" in err.message
    # Declining leaves it running.
    declined = rpc("containai/stop", {"workspace": str(ws)}, confirm=decline)
    assert declined["results"][0]["action"] == "declined"
    assert asked == [f"Container '{name}' may have active sessions. Stop anyway?"]
    assert sandbox.client.containers.get(name).status == "running"
    # Accepting stops it.
    accepted = rpc("containai/stop", {"workspace": str(ws)}, confirm=accept)
    assert accepted["results"][0]["action"] == "stopped"
    assert sandbox.client.containers.get(name).status == "exited"
    # force stops without asking.
    _json(sandbox.cai("run", "--json", cwd=ws))
    _open_fake_ssh_session(sandbox, name)
    asked.clear()
    forced = rpc("containai/stop", {"workspace": str(ws), "force": True}, confirm=decline)
    assert forced["results"][0]["action"] == "stopped" and asked == []
    # The CLI without a terminal refuses with a message instead of guessing.
    _json(sandbox.cai("run", "--json", cwd=ws))
    _open_fake_ssh_session(sandbox, name)
    cli = sandbox.cai("stop", cwd=ws)
    assert cli.returncode == 1 and "may have active sessions" in cli.stderr
    assert sandbox.client.containers.get(name).status == "running"


def test_stop_without_sessions_does_not_ask(sandbox):
    ws = sandbox.workspace("quiet")
    _json(sandbox.cai("run", "--json", cwd=ws))
    out = rpc("containai/stop", {"workspace": str(ws)})  # no confirm capability: fine
    assert out["results"][0]["action"] == "stopped"
    assert out["results"][0]["sessions"] == "no"


@pytest.mark.parametrize(
    "case", ["user-global", "env", "workspace-state", "repo-local", "parent-workspace", "default"]
)
def test_config_get_reports_what_run_mounts(sandbox, case):
    ws = sandbox.workspace("cfg")
    expected_source = case
    volume = f"{sandbox.volume}-{case}"
    if case == "user-global":
        volume = sandbox.volume
    elif case == "env":
        sandbox.env["CONTAINAI_DATA_VOLUME"] = volume
    elif case == "workspace-state":
        sandbox.config_file.write_text(f'[workspace."{ws}"]\ndata_volume = "{volume}"\n')
        expected_source = f"workspace:{ws}"
    elif case == "repo-local":
        (ws / ".containai").mkdir()
        (ws / ".containai" / "config.toml").write_text(f'[agent]\ndata_volume = "{volume}"\n')
    elif case == "parent-workspace":
        parent = ws.parent
        sandbox.config_file.write_text(f'[workspace."{parent}"]\ndata_volume = "{volume}"\n')
        expected_source = f"workspace:{parent}"
    elif case == "default":
        sandbox.config_file.write_text("")
        volume = "containai-data"
    got = sandbox.cai("config", "get", "data_volume", cwd=ws)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == f"{volume}\t{expected_source}"
    if case == "default":
        return  # never create the user's shared default volume from a test
    sandbox.extra_volumes.add(volume)
    ran = _json(sandbox.cai("run", "--json", cwd=ws))
    [container] = sandbox.containers()
    mounted = {m["Destination"]: m.get("Name") for m in container.attrs["Mounts"]}
    assert mounted["/mnt/agent-data"] == volume == ran["dataVolume"]


def test_concurrent_runs_make_one_container(sandbox):
    for n in range(10):
        ws = sandbox.workspace(f"race{n}")
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda d: sandbox.cai("run", "--json", cwd=d), [ws, ws]))
        outcomes = sorted(_json(r)["action"] for r in results)
        assert outcomes == ["attach", "create"]
        ids = {_json(r)["container"]["id"] for r in results}
        assert len(ids) == 1
        assert [
            c.id for c in sandbox.containers() if c.labels["containai.workspace"] == str(ws)
        ] == list(ids)


def test_bad_input_gets_specific_reasons_and_harms_nothing(sandbox):
    ws = sandbox.workspace("bad")
    created = _json(sandbox.cai("run", "--json", cwd=ws))
    stranger = sandbox.client.containers.run(
        "containai-test-tiny:latest", name=f"bad-stranger-{sandbox.volume}", detach=True
    )
    try:
        cases = [
            ("containai/stop", {"container": "no-such-container-x"}, "containerNotFound"),
            ("containai/status", {"container": stranger.name}, "notManaged"),
            ("containai/stop", {"container": stranger.name}, "notManaged"),
            ("containai/run", {"container": stranger.name}, "notManaged"),
            ("containai/run", {"container": "-bad"}, "invalidName"),
            ("containai/run", {"workspace": str(ws), "dataVolume": "bad/vol"}, "invalidName"),
            (
                "containai/run",
                {"workspace": str(ws), "fresh": True, "reset": True},
                "conflictingOptions",
            ),
            ("containai/run", {"container": "x1", "reset": True}, "conflictingOptions"),
            (
                "containai/run",
                {"workspace": str(ws), "reset": True, "dataVolume": "v"},
                "conflictingOptions",
            ),
            ("containai/stop", {"container": "x1", "all": True}, "conflictingOptions"),
            ("containai/run", {"workspace": str(ws), "dataVolume": "other-vol"}, "volumeMismatch"),
            ("containai/run", {"workspace": str(ws / "missing")}, "workspaceNotFound"),
        ]
        for method, params, reason in cases:
            err = rpc_error(method, params)
            assert (err.code, err.reason) == (-32803, reason), (method, params, err.message)
            assert err.message
        stranger.reload()
        assert stranger.status == "running"
        [mine] = sandbox.containers()
        assert mine.id == created["container"]["id"] and mine.status == "running"
        assert _volume_exists(sandbox, sandbox.volume)
        assert not _volume_exists(sandbox, "other-vol")
    finally:
        stranger.remove(force=True)


def test_cli_prompt_on_a_terminal(sandbox):
    ws = sandbox.workspace("tty")
    name = _json(sandbox.cai("run", "--json", cwd=ws))["containerName"]
    _open_fake_ssh_session(sandbox, name)
    code, text = cai_on_pty(sandbox, ws, "stop", answer=b"n\n")
    assert f"[WARN] Container '{name}' may have active sessions" in text
    assert "Stop anyway? [y/N]:" in text
    assert code == 1
    assert sandbox.client.containers.get(name).status == "running"
    code, text = cai_on_pty(sandbox, ws, "stop", answer=b"y\n")
    assert code == 0, text
    assert sandbox.client.containers.get(name).status == "exited"


def test_fresh_that_cannot_create_keeps_the_old_container(sandbox):
    ws = sandbox.workspace("keepold")
    first = _json(sandbox.cai("run", "--json", cwd=ws))
    sandbox.env["CONTAINAI_IMAGE"] = "containai-test-tiny:no-such-tag"
    failed = sandbox.cai("--fresh", cwd=ws)
    assert failed.returncode == 1 and "Image not found" in failed.stderr
    [container] = sandbox.containers()
    assert container.id == first["container"]["id"] and container.status == "running"

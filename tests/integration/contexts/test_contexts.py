"""Docker contexts on real engines: several Docker contexts (over SSH: test_remote_hosts.py).

Every engine here is a private dockerd (conftest's `dedicated_engine_factory`, each in
its own network namespace), registered as a Docker context in a test-private
DOCKER_CONFIG, so `stop --all` and friends never reach the main daemon, where other
tests' containers run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from containai_rpc.cli.session import Session
from containai_rpc.engine import EngineSet
from containai_rpc.engine.contexts import PROBE_TIMEOUT_S
from containai_rpc.protocol.models import ListParams
from containai_rpc.service.inventory import list_containers
from tests.support.docker_cli import cai_json, create_context
from tests.support.engines import TINY_IMAGE

pytestmark = pytest.mark.engine

SSHD = Path("/usr/sbin/sshd")
TINY = "containai-test-tiny:latest"


# --------------------------------------------------------------------------- fixtures


def configure(sandbox: Any, text: str) -> None:
    with sandbox.config_file.open("a") as f:
        f.write("\n" + text)


def timed_request(method: str, params: dict[str, Any]) -> tuple[Any, float]:
    """One request to a real server process; the time of the request alone (a server's
    start-up is no part of what is measured, and varies with the machine's load)."""

    async def go() -> tuple[Any, float]:
        async with Session() as session:
            began = time.monotonic()
            result = await session.request(method, params)
            return result, time.monotonic() - began

    return asyncio.run(go())


def states(client: docker.DockerClient) -> dict[str, str]:
    return {row["Names"][0].lstrip("/"): row["State"] for row in client.api.containers(all=True)}


# --------------------------------------------------------------------------- two engines


def test_list_run_status_stop_all_across_two_engines(
    sandbox, docker_config, dedicated_engine_factory
):
    first, second = dedicated_engine_factory(), dedicated_engine_factory()
    create_context(docker_config, "first", first.host)
    create_context(docker_config, "second", second.host)
    configure(sandbox, '[secure_engine]\ncontext_name = "first"\n[engine]\ncontexts = ["second"]\n')
    one, two = first.client(), second.client()
    alpha, beta = sandbox.workspace("alpha"), sandbox.workspace("beta")

    ran_a = cai_json(sandbox, "run", cwd=alpha)
    ran_b = cai_json(sandbox, "run", "--context", "second", cwd=beta)
    a, b = ran_a["containerName"], ran_b["containerName"]
    assert (ran_a["context"], ran_a["isolation"]) == ("first", "runc-reduced")
    assert (ran_b["context"], ran_b["isolation"]) == ("second", "runc-reduced")
    assert states(one) == {a: "running"} and states(two) == {b: "running"}
    # alpha's container is on first: naming second would make a second container of alpha
    twice = sandbox.cai("run", "--context", "second", cwd=alpha)
    assert twice.returncode == 1 and "Traceback" not in twice.stderr
    assert f"already has container {a} on context 'first'" in twice.stderr
    assert "cai stop --remove --context first" in twice.stderr
    assert states(two) == {b: "running"}  # nothing made on second

    listed = cai_json(sandbox, "list")
    assert {(c["name"], c["context"]) for c in listed["containers"]} == {
        (a, "first"),
        (b, "second"),
    }
    assert "errors" not in listed
    only_second = cai_json(sandbox, "list", "--context", "second")
    assert [c["name"] for c in only_second["containers"]] == [b]

    status_b = cai_json(sandbox, "status", "--context", "second", cwd=beta)
    assert (status_b["container"], status_b["context"]) == (b, "second")
    assert status_b["status"] == "running"
    assert status_b["isolation"] == "runc-reduced"
    status_a = cai_json(sandbox, "status", cwd=alpha)  # the selected context: first
    assert (status_a["container"], status_a["context"]) == (a, "first")

    stopped = cai_json(sandbox, "stop", "--context", "second", cwd=beta)
    assert [(r["containerName"], r["context"], r["action"]) for r in stopped["results"]] == [
        (b, "second", "stopped")
    ]
    assert states(one) == {a: "running"} and states(two) == {b: "exited"}
    cai_json(sandbox, "run", "--context", "second", cwd=beta)  # started again

    stopped = cai_json(sandbox, "stop", "--all")
    assert {(r["containerName"], r["context"], r["action"]) for r in stopped["results"]} == {
        (a, "first", "stopped"),
        (b, "second", "stopped"),
    }
    assert states(one) == {a: "exited"} and states(two) == {b: "exited"}

    # A name is looked up in every managed context (as the original does); in two, it is ambiguous.
    found = cai_json(sandbox, "status", "--container", b)
    assert (found["container"], found["context"]) == (b, "second")
    cai_json(sandbox, "run", "--container", "dup", "--context", "first", cwd=alpha)
    again = sandbox.cai("run", "--container", "dup", "--context", "second", cwd=alpha)
    assert again.returncode == 1  # a run never makes the same name in a second context
    assert "Container dup already exists on context 'first'" in again.stderr
    assert "dup" not in states(two)
    made = one.api.inspect_container("dup")["Config"]["Labels"]  # by hand, as docker would
    two.containers.create(TINY_IMAGE, ["true"], name="dup", labels=made)
    ambiguous = sandbox.cai("status", "--container", "dup")
    assert ambiguous.returncode == 1
    assert "exists in multiple contexts: first, second" in ambiguous.stderr
    for ctx in ("first", "second"):
        cai_json(sandbox, "stop", "--container", "dup", "--context", ctx, "--remove")
    assert states(one) == {a: "exited"} and states(two) == {b: "exited"}

    # The second engine goes away: `list` still answers, at once, with an error entry.
    two.close()
    second.stop()
    listed, took = timed_request("containai/list", {})
    print(f"list request with one of two engines stopped: {took:.2f} s")
    assert [(c["name"], c["context"]) for c in listed["containers"]] == [(a, "first")]
    [error] = listed["errors"]
    assert error["context"] == "second"
    assert f"not reachable at {second.host}: socket not found" in error["message"]
    assert took < 5, "an unreachable context must not make `list` slow"

    doctor = cai_json(sandbox, "doctor")  # exit 0: the selected engine is fine
    checks = {c["id"]: c for c in doctor["checks"]}
    assert checks["docker.engine"]["status"] == "ok"
    assert first.host in checks["docker.engine"]["detail"]
    assert checks["docker.context.second"]["status"] == "warn"
    assert "socket not found" in checks["docker.context.second"]["detail"]

    second.start()  # back: listed again, without an error
    listed = cai_json(sandbox, "list")
    assert {(c["name"], c["context"]) for c in listed["containers"]} == {
        (a, "first"),
        (b, "second"),
    }
    assert "errors" not in listed
    one.close()


def test_a_hung_engine_costs_one_probe_timeout(sandbox, docker_config, dedicated_engine_factory):
    """A daemon that accepts connections but never answers (SIGSTOP) is cut off by the
    bounded probe; the other context is listed meanwhile (both run concurrently)."""
    first, second = dedicated_engine_factory(), dedicated_engine_factory()
    create_context(docker_config, "first", first.host)
    create_context(docker_config, "second", second.host)
    one = first.client()
    one.containers.create(TINY, name="kept-m", labels={"containai.managed": "true"})
    engines = EngineSet("first", ["second"])
    assert second.proc is not None
    os.kill(second.proc.pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        result = list_containers(engines, ListParams())
        took = time.monotonic() - began
    finally:
        os.kill(second.proc.pid, signal.SIGCONT)
        engines.close()
        one.close()
    print(f"list with a hung engine: {took:.2f} s (probe timeout {PROBE_TIMEOUT_S} s)")
    assert [(c.name, c.context) for c in result.containers] == [("kept-m", "first")]
    assert [e.context for e in result.errors or []] == ["second"]
    assert took < PROBE_TIMEOUT_S + 1.5


# --------------------------------------------------------------------------- context rules


def test_context_selection_follows_the_docker_cli(sandbox, docker_config, monkeypatch):
    """No engine needed: which context is selected and managed, from files and env only."""
    create_context(docker_config, "mine", "unix:///run/mine.sock")
    assert EngineSet().default_context() == "default"  # no config.json: `default`
    assert EngineSet().endpoint("mine") == "unix:///run/mine.sock"

    (docker_config / "config.json").write_text('{"currentContext": "mine"}')
    assert EngineSet().default_context() == "mine"  # `docker context use mine`
    monkeypatch.setenv("DOCKER_CONTEXT", "default")
    assert EngineSet().default_context() == "default"

    create_context(docker_config, "containai-docker", "unix:///run/sysbox.sock")
    assert EngineSet().default_context() == "containai-docker"  # beats the current one
    assert EngineSet().managed_contexts() == ["containai-docker"]
    assert EngineSet("mine").managed_contexts() == ["mine", "containai-docker"]
    assert EngineSet("mine", ["other"]).managed_contexts() == ["mine", "other"]

    monkeypatch.setenv("DOCKER_HOST", "unix:///run/explicit.sock")  # explicit: wins
    assert EngineSet().default_context() == "default"
    assert EngineSet().endpoint("default") == "unix:///run/explicit.sock"
    assert EngineSet().managed_contexts() == ["default"]


def test_unknown_and_damaged_contexts_are_domain_errors(sandbox, docker_config):
    engines = EngineSet("nowhere")
    rows = dict(engines.each(engines.managed_contexts(), lambda e: e.context))
    assert rows["nowhere"].reason == "contextNotFound"
    create_context(docker_config, "broken", "unix:///run/x.sock")
    [meta] = docker_config.glob("contexts/meta/*/meta.json")
    meta.write_text("{not json")
    [(name, error)] = engines.each(["broken"], lambda e: e.context)
    assert (name, error.reason) == ("broken", "contextInvalid")
    assert str(meta) in error.message

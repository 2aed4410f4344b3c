"""Foreign containers: never stopped, removed, attached to or collected — and each
operation that meets one says so.

On a dedicated engine (so `stop --all` and `gc` may roam freely) live, next to ours:
a stranger holding the name we would generate, one labelled `containai.managed=false`
for our workspace, one with our workspace label but no managed label (never started),
and an old stopped bystander. Every lifecycle operation runs; they must end exactly as
they began (same state, start/finish times, restart count).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import server as test_server
from tests.support.reliability import (
    check_untouched,
    check_volumes_kept,
    container_fingerprint,
    volume_names,
)

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"


def _reason(response: dict[str, Any]) -> str | None:
    return (response.get("error", {}).get("data") or {}).get("reason")


def test_foreign_containers_are_never_touched(sandbox, dedicated_engine, servers):
    ws = sandbox.workspace("foreign")
    client = dedicated_engine.client()
    strangers = {
        "name": client.containers.run(TINY, name="foreign-main", detach=True),
        "unmanaged": client.containers.run(
            TINY,
            name="imposter",
            detach=True,
            labels={"containai.managed": "false", "containai.workspace": str(ws)},
        ),
        "label-only": client.containers.create(
            TINY, name="labelled-only", labels={"containai.workspace": str(ws)}
        ),
        "bystander": client.containers.create(TINY, name="bystander"),
    }
    before = container_fingerprint(client, [c.id for c in strangers.values()])
    everything_old = test_server.command(now="2100-01-01T00:00:00+00:00")  # the gc clock
    env = {**sandbox.env, "DOCKER_HOST": dedicated_engine.host}
    server = servers(env, ws, command=everything_old)

    # run: never attaches to the stranger holding our name; makes its own, and says why.
    ran = server.result("containai/run", {"workspace": str(ws)}, timeout=60)
    assert ran["action"] == "create" and ran["containerName"] == "foreign-main-2"
    volumes = volume_names(client)
    notes = " ".join(ran.get("warnings") or [])
    assert "foreign-main" in notes and "not managed" in notes, ran
    assert "imposter" in notes and "labelled-only" in notes, ran

    # Named explicitly: refused with notManaged, by every operation.
    for name in ("foreign-main", "imposter", "labelled-only", "bystander"):
        for method, params in [
            ("containai/run", {"container": name}),
            ("containai/stop", {"container": name, "force": True}),
            ("containai/stop", {"container": name, "remove": True, "force": True}),
            ("containai/status", {"container": name}),
            ("containai/keep", {"container": name, "keep": True}),
        ]:
            response = server.request(method, params)
            assert _reason(response) == "notManaged", (method, params, response)
            assert name in response["error"]["message"]

    # By workspace and --all: only ours, and the answer lists only ours.
    stopped = server.result("containai/stop", {"workspace": str(ws), "force": True})
    assert [r["containerName"] for r in stopped["results"]] == ["foreign-main-2"]
    every = server.result("containai/stop", {"all": True, "force": True})
    assert {r["containerName"] for r in every["results"]} <= {"foreign-main-2"}
    status = server.result("containai/status", {"workspace": str(ws)})
    assert status["name"] == "foreign-main-2"
    listed = server.result("containai/list", {})
    assert [c["name"] for c in listed["containers"]] == ["foreign-main-2"]

    # gc: collects ours (stopped, "old"), skips the strangers and says they are not ours.
    gc = server.result("containai/gc", {"force": True, "age": "1d"}, timeout=60)
    assert [c["name"] for c in gc["removed"]] == ["foreign-main-2"], gc
    skipped = {s["name"]: s["reason"] for s in gc.get("skipped") or []}
    assert skipped.get("imposter") == "notManaged" and skipped.get("labelled-only") == (
        "notManaged"
    ), gc

    # fresh and reset on the workspace: recreate ours only.
    again = server.result("containai/run", {"workspace": str(ws)}, timeout=60)
    fresh = server.result("containai/run", {"workspace": str(ws), "fresh": True}, timeout=60)
    assert fresh["containerName"] == again["containerName"] == "foreign-main-2"
    reset = server.result("containai/run", {"workspace": str(ws), "reset": True}, timeout=60)
    assert reset["containerName"] == "foreign-main-2"
    server.result("containai/stop", {"all": True, "remove": True, "force": True})

    check_untouched(client, before)
    check_volumes_kept(client, volumes)
    assert {c.name for c in client.containers.list(all=True)} == {
        "foreign-main",
        "imposter",
        "labelled-only",
        "bystander",
    }
    client.close()

"""Lookups across contexts on real engines: the main engine (context `default`, selected)
and a private dockerd (context `engine-b`), both managed. A container that lives on B is found
by `run --container`, and by a workspace's `run`, `status` and `stop`, from A; nothing is
created on A."""

from __future__ import annotations

import pytest

from tests.support.docker_cli import cai_json, create_context

pytestmark = pytest.mark.engine


def test_a_container_on_b_is_found_from_a(sandbox, docker_config, dedicated_engine):
    create_context(docker_config, "engine-b", dedicated_engine.host)
    with sandbox.config_file.open("a") as f:
        f.write('\n[engine]\ncontexts = ["engine-b"]\n')
    b = dedicated_engine.client()
    name = f"x-{sandbox.volume[-10:]}"
    ws = sandbox.workspace("far")
    try:
        made = cai_json(sandbox, "run", "--container", name, "--context", "engine-b", cwd=ws)
        assert (made["action"], made["context"]) == ("create", "engine-b")

        ran = cai_json(sandbox, "run", "--container", name, cwd=ws)
        assert (ran["action"], ran["context"], ran["containerName"]) == ("attach", "engine-b", name)
        assert ran["container"]["id"] == made["container"]["id"]
        assert sandbox.containers() == []  # nothing on the main engine (A)
        assert not sandbox.client.containers.list(all=True, filters={"name": f"^{name}$"})

        by_workspace = cai_json(sandbox, "run", cwd=ws)
        assert (by_workspace["action"], by_workspace["context"]) == ("attach", "engine-b")
        assert by_workspace["containerName"] == name
        status = cai_json(sandbox, "status", cwd=ws)
        assert (status["container"], status["context"]) == (name, "engine-b")
        [stopped] = cai_json(sandbox, "stop", cwd=ws)["results"]
        assert (stopped["containerName"], stopped["context"], stopped["action"]) == (
            name,
            "engine-b",
            "stopped",
        )
        assert sandbox.containers() == []
        assert [c.name for c in b.containers.list(all=True)] == [name]
        assert 'context = "engine-b"' in sandbox.config_file.read_text()
    finally:
        b.close()

"""The exact attack: a container labelled only `containai.managed=true` (no workspace or
data-volume label, so `run` treats it as foreign) must be refused by every operation
that names it — `stop --remove` above all — and stay exactly as it was."""

from __future__ import annotations

import json

import pytest

from tests.support.reliability import TALLY, check_untouched, container_fingerprint

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"


def test_a_managed_container_without_its_labels_is_never_touched(sandbox, dedicated_engine):
    client = dedicated_engine.client()
    bare = client.containers.run(
        TINY, name="bare-managed", detach=True, labels={"containai.managed": "true"}
    )
    before = container_fingerprint(client, [bare.id])
    sandbox.env["DOCKER_HOST"] = dedicated_engine.host
    attempts = [
        ("stop", "--container", "bare-managed", "--remove", "--force"),
        ("stop", "--container", "bare-managed"),
        ("keep", "--container", "bare-managed"),
        ("status", "--container", "bare-managed"),
        ("run", "--container", "bare-managed", "--fresh"),
    ]
    for args in attempts:
        TALLY["label-less managed container operations"] += 1
        proc = sandbox.cai(*args, "--json")
        assert proc.returncode != 0, (args, proc.stdout)
        said = proc.stdout + proc.stderr
        assert "notManaged" in said or "not managed" in said.lower() or "leaves it" in said
        assert "containai.workspace" in said, (args, said)
        TALLY["label-less managed containers refused"] += 1

    TALLY["label-less managed container operations"] += 2
    gc = json.loads(sandbox.cai("gc", "--force", "--json").stdout)
    assert "bare-managed" not in json.dumps(gc.get("removed") or [])
    TALLY["label-less managed containers refused"] += 1
    everything = json.loads(sandbox.cai("stop", "--all", "--remove", "--json").stdout)
    outcome = next(r for r in everything["results"] if r["containerName"] == "bare-managed")
    assert outcome["action"] == "notManaged", everything
    TALLY["label-less managed containers refused"] += 1

    check_untouched(client, before)
    bare.reload()
    assert bare.status == "running"
    client.close()

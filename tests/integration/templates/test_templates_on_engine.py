"""Templates on the real engine, through the real `cai`: a template is built as
`containai-template-<name>:local` and labelled as the original does; editing its Dockerfile
makes `status` and `list` report the container outdated; `run` with CAI_YES=1 rebuilds it
and recreates the container on the same data volume; a bad name and a failing build are
clear errors that leave the container as it was."""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from tests.support.engines import TINY_IMAGE

pytestmark = pytest.mark.engine


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def template(sandbox) -> Iterator[tuple[str, Path]]:
    """A unique template name (image names are global) and its Dockerfile's path; the
    built image is removed afterwards."""
    name = f"cai-test-{uuid.uuid4().hex[:8]}"
    dockerfile = (
        Path(sandbox.env["XDG_CONFIG_HOME"]) / "containai" / "templates" / name / "Dockerfile"
    )
    dockerfile.parent.mkdir(parents=True)
    yield name, dockerfile
    sandbox.cleanup()
    with contextlib.suppress(docker.errors.ImageNotFound):
        sandbox.client.images.remove(f"containai-template-{name}:local", force=True)


def _exec(sandbox, container_id: str, script: str) -> str:
    result = sandbox.client.containers.get(container_id).exec_run(["sh", "-c", script])
    return result.output.decode().strip()


def test_an_edited_template_is_outdated_and_a_confirmed_run_rebuilds_it(sandbox, template):
    name, dockerfile = template
    dockerfile.write_text(f"FROM {TINY_IMAGE}\nRUN echo one > /etc/template-step\n")
    ws = sandbox.workspace("tpl")

    first = _json(sandbox.cai("run", "--template", name, "--json", cwd=ws))
    assert first["image"] == f"containai-template-{name}:local"
    cid = first["container"]["id"]
    labels = sandbox.client.containers.get(cid).labels
    assert labels["ai.containai.template"] == name
    assert (
        labels["ai.containai.template-hash"] == hashlib.sha256(dockerfile.read_bytes()).hexdigest()
    )
    assert (first["container"]["template"], first["container"]["outdated"]) == (name, False)
    assert _exec(sandbox, cid, "cat /etc/template-step") == "one"
    _exec(sandbox, cid, "echo kept > /mnt/agent-data/marker")
    assert _json(sandbox.cai("status", "--json", cwd=ws))["outdated"] is False

    dockerfile.write_text(f"FROM {TINY_IMAGE}\nRUN echo two > /etc/template-step\n")
    assert _json(sandbox.cai("status", "--json", cwd=ws))["outdated"] is True
    human = sandbox.cai("status", cwd=ws)
    assert f"Outdated: yes, template '{name}' changed" in human.stdout
    [listed] = [c for c in _json(sandbox.cai("list", "--json"))["containers"] if c["id"] == cid]
    assert listed["outdated"] is True and "changed" in listed["outdatedReason"]

    # Without a terminal and without CAI_YES: attached as it is, with the fact and a warning.
    attached = _json(sandbox.cai("run", "--template", name, "--json", cwd=ws))
    assert (attached["action"], attached["container"]["id"]) == ("attach", cid)
    assert attached["container"]["outdated"] is True
    assert any("is outdated" in w for w in attached["warnings"])

    sandbox.env["CAI_YES"] = "1"
    rebuilt = sandbox.cai("run", "--template", name, cwd=ws)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Rebuild container with the updated template now? yes" in rebuilt.stderr
    assert "(recreated)" in rebuilt.stdout
    [container] = sandbox.containers()
    assert container.id != cid
    assert _exec(sandbox, container.id, "cat /etc/template-step") == "two"
    assert _exec(sandbox, container.id, "cat /mnt/agent-data/marker") == "kept"
    status = _json(sandbox.cai("status", "--json", cwd=ws))
    assert status["outdated"] is False


def test_a_bad_name_or_a_failing_build_leaves_the_container_untouched(sandbox, template):
    name, dockerfile = template
    dockerfile.write_text(f"FROM {TINY_IMAGE}\n")
    ws = sandbox.workspace("tpl-bad")
    cid = _json(sandbox.cai("run", "--template", name, "--json", cwd=ws))["container"]["id"]

    bad = sandbox.cai("run", "--template", "Bad/Name", "--fresh", cwd=ws)
    assert bad.returncode == 1
    assert "[ERROR] Invalid template name: 'Bad/Name'" in bad.stderr
    assert "Traceback" not in bad.stderr

    dockerfile.write_text(f"FROM {TINY_IMAGE}\nRUN echo broken-step && exit 3\n")
    failed = sandbox.cai("run", "--template", name, "--fresh", cwd=ws)
    assert failed.returncode == 1
    assert f"[ERROR] Failed to build containai-template-{name}:local" in failed.stderr
    assert "broken-step" in failed.stderr and "Traceback" not in failed.stderr

    sandbox.env["CAI_YES"] = "1"  # the offer to rebuild fails the same way
    offered = sandbox.cai("run", "--template", name, cwd=ws)
    assert offered.returncode == 1 and "Failed to build" in offered.stderr

    [container] = sandbox.containers()
    assert (container.id, container.status) == (cid, "running")


def test_the_default_template_is_installed_on_first_use(sandbox):
    ws = sandbox.workspace("tpl-default")
    dockerfile = (
        Path(sandbox.env["XDG_CONFIG_HOME"]) / "containai" / "templates" / "default" / "Dockerfile"
    )
    try:
        result = _json(sandbox.cai("run", "--template", "default", "--json", cwd=ws))
        assert f"FROM {TINY_IMAGE}" in dockerfile.read_text()  # the configured base image
        assert result["image"] == "containai-template-default:local"
        assert result["container"]["template"] == "default"
        other = sandbox.cai("run", "--template", "other", "--json", cwd=ws)
        assert other.returncode == 1 and "was built from template 'default'" in other.stderr
        assert "--fresh" in other.stderr
    finally:
        sandbox.cleanup()
        with contextlib.suppress(docker.errors.ImageNotFound):
            sandbox.client.images.remove("containai-template-default:local", force=True)

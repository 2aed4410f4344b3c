"""`--image-tag T` on the real engine: the container is created from `containai:T`, with the
original's `containai.image-tag` label and no template labels; next to `--template` the tag
is ignored with a warning."""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path

import docker.errors
import pytest

from tests.support.engines import TINY_IMAGE

pytestmark = pytest.mark.engine


def test_image_tag_names_the_containai_image_and_is_recorded(sandbox):
    tag = f"cai-test-{uuid.uuid4().hex[:8]}"
    sandbox.client.images.get(TINY_IMAGE).tag("containai", tag)
    template = f"cai-test-{uuid.uuid4().hex[:8]}"
    dockerfile = Path(sandbox.env["XDG_CONFIG_HOME"]) / "containai" / "templates" / template
    dockerfile.mkdir(parents=True)
    (dockerfile / "Dockerfile").write_text(f"FROM {TINY_IMAGE}\n")
    try:
        proc = sandbox.cai("run", "--image-tag", tag, "--json", cwd=sandbox.workspace("tag"))
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        assert result["image"] == f"containai:{tag}"
        labels = sandbox.client.containers.get(result["container"]["id"]).labels
        assert labels["containai.image-tag"] == tag
        assert "ai.containai.template" not in labels and "template" not in result["container"]

        both = sandbox.cai(
            "run", "--template", template, "--image-tag", tag, cwd=sandbox.workspace("both")
        )
        assert both.returncode == 0, both.stderr
        assert f"containai-template-{template}:local" in both.stdout
        assert "[WARN] imageTag is ignored when template is given" in both.stdout
    finally:
        sandbox.cleanup()
        for ref in (f"containai:{tag}", f"containai-template-{template}:local"):
            with contextlib.suppress(docker.errors.ImageNotFound):
                sandbox.client.images.remove(ref)

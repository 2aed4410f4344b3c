"""`cai export`, `cai import` and `cai stop --export` end to end on the real engine."""

from __future__ import annotations

import tarfile
import uuid

import pytest

pytestmark = pytest.mark.engine


def test_cli_export_import_and_stop_export(sandbox):
    ws = sandbox.workspace("bk")
    run = sandbox.cai("run", cwd=ws)
    assert run.returncode == 0, run.stderr
    [container] = sandbox.containers()
    container.exec_run(["sh", "-c", "echo kept > /mnt/agent-data/note"])
    try:
        out = sandbox.cai("export", "-o", "b.tgz", cwd=ws)
        assert out.returncode == 0, out.stderr
        with tarfile.open(ws / "b.tgz") as tar:
            names = tar.getnames()
            manifest = tar.extractfile("containai-export.json").read().decode()
        assert "data/note" in names and str(ws) in manifest

        target = f"{sandbox.volume}-{uuid.uuid4().hex[:6]}"
        sandbox.extra_volumes.add(target)
        done = sandbox.cai("import", "--from", "b.tgz", "--data-volume", target, cwd=ws)
        assert done.returncode == 0 and "new volume" in done.stdout, done.stderr
        again = sandbox.cai("import", "--from", "b.tgz", "--data-volume", target, cwd=ws)
        assert again.returncode == 1 and "not empty" in again.stderr

        stop = sandbox.cai("stop", "--export", "--force", cwd=ws)
        assert stop.returncode == 0, stop.stderr
        assert [p for p in ws.iterdir() if p.name.startswith(container.name)]
        container.reload()
        assert container.status == "exited"
    finally:
        for c in sandbox.client.containers.list(all=True, filters={"label": "containai.helper"}):
            c.remove(force=True)

"""Session failures on the real engine, with the tiny image (no sshd): the original's exit
codes 12 (no SSH) and 15 (not ContainAI's), and a plain `cai` that still prints the
summary where no session can run."""

from __future__ import annotations

import uuid

import pytest

from tests.support.engines import TINY_IMAGE

pytestmark = pytest.mark.engine


def test_no_ssh_is_12_for_a_command_and_a_summary_for_a_plain_cai(sandbox):
    ws = sandbox.workspace("nosshd")
    plain = sandbox.cai(cwd=ws)
    assert plain.returncode == 0, plain.stderr
    assert "nosshd-main: running (created)" in plain.stdout
    for args in (("--", "true"), ("exec", "--", "true"), ("-d", "--", "sleep", "1"), ("shell",)):
        proc = sandbox.cai(*args, cwd=ws)
        assert proc.returncode == 12, (args, proc.stderr)
        assert "[ERROR] Container nosshd-main has no SSH access" in proc.stderr
        assert proc.stdout == ""


def test_a_container_that_is_not_ours_is_15(sandbox):
    name = f"foreign-{uuid.uuid4().hex[:8]}"
    foreign = sandbox.client.containers.create(TINY_IMAGE, name=name)
    try:
        proc = sandbox.cai("exec", "--container", name, "--", "true", cwd=sandbox.root)
        assert proc.returncode == 15, proc.stderr
        assert "[ERROR]" in proc.stderr and name in proc.stderr
        foreign.reload()
        assert foreign.status == "created"  # left alone
    finally:
        foreign.remove(force=True)

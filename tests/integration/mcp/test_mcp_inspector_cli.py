"""A client nobody on the team wrote: the MCP Inspector (npm, pinned by
tools/mcp-inspector/package-lock.json, installed by scripts/mcp-inspector.sh into the
cache when missing) in CLI mode lists the tools and calls containai_exec and
containai_status against `containai-rpc --mcp` on the real engine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.mcp.conftest import server_argv, use_sshd_image

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def inspector() -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "mcp-inspector.sh")], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def inspect(inspector: str, box, ws: Path, *args: str) -> dict[str, Any]:
    """One Inspector CLI run (it starts the server itself, in `ws`). Its stdio transport
    passes on only a default environment: the sandbox's settings go with `-e`."""
    env = [f"{k}={v}" for k, v in box.env.items() if k.startswith(("CONTAINAI_", "XDG_"))]
    env_args = [a for pair in env for a in ("-e", pair)]
    done = subprocess.run(
        [inspector, "--cli", *env_args, "--cwd", str(ws), *server_argv(), *args],
        env=box.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_inspector_lists_and_calls(mcp_box, monkeypatch, inspector):
    use_sshd_image(mcp_box, monkeypatch)
    ws = mcp_box.workspace("app")
    # --strict: the Inspector checks the tool schemas for portability (exit 6 on errors)
    listed = inspect(inspector, mcp_box, ws, "--strict", "--method", "tools/list")["tools"]
    tools = {t["name"]: t for t in listed}
    assert set(tools) == {
        "containai_status",
        "containai_list",
        "containai_run",
        "containai_exec",
        "containai_stop",
        "containai_fresh",
    }
    assert tools["containai_exec"]["inputSchema"]["required"] == ["command"]
    assert tools["containai_fresh"]["annotations"]["destructiveHint"] is True

    call = ["--method", "tools/call", "--tool-name"]
    pwd = inspect(inspector, mcp_box, ws, *call, "containai_exec", "--tool-arg", 'command=["pwd"]')
    assert pwd.get("isError") is not True, pwd
    assert pwd["structuredContent"]["exitCode"] == 0
    assert pwd["structuredContent"]["stdout"] == "/home/agent/workspace\n"

    status = inspect(inspector, mcp_box, ws, *call, "containai_status")
    assert status.get("isError") is not True, status
    assert status["structuredContent"]["status"] == "running"
    assert status["structuredContent"]["workspace"] == str(ws)

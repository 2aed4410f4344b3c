"""The README's client snippets (Claude Code, VS Code, Codex) name a server that works:
each is parsed as its client would (JSON / TOML) and the command it names is started by
the SDK's stdio client, with `cai` from this checkout first on PATH, and lists the tools."""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parents[3]


def snippets() -> list[tuple[str, str]]:
    """(language, text) of the fenced blocks of the README's MCP section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## AI agents (MCP)", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(json|toml)\n(.*?)```", section, flags=re.S)


def server_of(language: str, text: str) -> dict[str, object]:
    if language == "toml":
        return tomllib.loads(text)["mcp_servers"]["containai"]  # Codex
    config = json.loads(text)
    return (config.get("mcpServers") or config["servers"])["containai"]  # Claude / VS Code


def test_three_snippets_claude_vscode_codex():
    found = snippets()
    assert [lang for lang, _ in found] == ["json", "json", "toml"]
    assert "mcpServers" in json.loads(found[0][1]) and "servers" in json.loads(found[1][1])
    assert server_of(*found[1])["type"] == "stdio"


@pytest.mark.parametrize("index", [0, 1, 2], ids=["claude-code", "vscode", "codex"])
async def test_snippet_starts_a_working_server(mcp_box, index):
    server = server_of(*snippets()[index])
    bin_dir = str(Path(sys.executable).parent)  # this checkout's `cai`
    env = {**mcp_box.env, "PATH": bin_dir + os.pathsep + mcp_box.env.get("PATH", "")}
    ws = mcp_box.workspace("app")
    params = StdioServerParameters(
        command=str(server["command"]), args=list(server["args"]), env=env, cwd=ws
    )
    async with Client(params) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        status = await client.call_tool("containai_run", {})
    assert "containai_exec" in tools
    assert status.structured_content["workspace"] == str(ws)

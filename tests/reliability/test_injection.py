"""Injection: names, paths, volumes and labels reach Docker and ssh as data, never as code.

- Statically: no module of the package runs anything through a shell, and every
  `sh -c` script run inside a container is a constant (values travel as `$1`…).
- End to end: a workspace whose path is full of shell syntax works like any other —
  container created with exactly that bind mount and label, state entry readable,
  `status`/`fresh`/`stop --remove` work — and no payload ever runs (canary files).
- Hostile container and volume names are refused with `invalidName` before any Docker
  call, and create nothing.
"""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

import containai_rpc
from tests.support.reliability import TALLY, volume_names

pytestmark = pytest.mark.engine

PACKAGE = Path(containai_rpc.__file__).parent
SHELL_CALLS = {"system", "popen", "getoutput", "getstatusoutput", "create_subprocess_shell"}
PROCESS_CALLS = {"run", "Popen", "check_output", "check_call", "call", "create_subprocess_exec"}
METACHARACTERS = "a b;$(touch x)'\"`|&"


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _own_method(node: ast.Call) -> bool:
    """`self.call(...)`: a method of our own class, not a process call."""
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
    )


def _sh_c_script(node: ast.List) -> ast.expr | None:
    """The script of an argv literal `["sh", "-c", script, …]`, if it is one."""
    values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts[:2]]
    if len(node.elts) >= 3 and values[0] in ("sh", "bash", "/bin/sh") and values[1] == "-c":
        return node.elts[2]
    return None


def test_nothing_runs_through_a_shell():
    """Every process the package starts gets an argv list; `sh -c` scripts are constants."""
    offences: list[str] = []
    calls = scripts = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _call_name(node)
                if name in SHELL_CALLS:
                    offences.append(f"{where}:{node.lineno} {name}()")
                for kw in node.keywords:
                    if kw.arg == "shell" and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False
                    ):
                        offences.append(f"{where}:{node.lineno} shell=")
                if name in PROCESS_CALLS and node.args and not _own_method(node):
                    calls += 1
                    if isinstance(node.args[0], ast.Constant | ast.JoinedStr | ast.BinOp):
                        offences.append(f"{where}:{node.lineno} {name}() with a command string")
            elif isinstance(node, ast.List) and (script := _sh_c_script(node)) is not None:
                scripts += 1
                if not isinstance(script, ast.Constant | ast.Name):
                    offences.append(f"{where}:{node.lineno} sh -c script built from values")
    TALLY["injection inputs"] += calls + scripts
    assert calls >= 4, "the scan found no process calls: is it looking at the package?"
    assert not offences, offences


def _run(sandbox: Any, cwd: Path, *args: str) -> dict[str, Any]:
    done = sandbox.cai(*args, "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _no_payload_ran(root: Path, before: set[Path]) -> None:
    """`touch x` would leave an `x` wherever its shell ran: the CLI's or the server's cwd."""
    assert not [p for p in root.rglob("x") if p not in before]
    assert not Path("/x").exists()


@pytest.mark.parametrize(
    "image", ["containai-test-tiny:latest", "containai:latest"], ids=["tiny", "systemd-ssh"]
)
def test_workspace_path_with_shell_syntax_works_end_to_end(sandbox, monkeypatch, image):
    """`a b;$(touch x)'"\\`|&` as a directory name: run, status, fresh, remove — all plain."""
    sandbox.env["CONTAINAI_IMAGE"] = image
    monkeypatch.setenv("CONTAINAI_IMAGE", image)
    ws = sandbox.workspace(METACHARACTERS, branch="feat/$(id)")
    before = set(sandbox.root.rglob("x"))
    assert not Path("/x").exists()
    TALLY["injection inputs"] += 1

    created = _run(sandbox, ws, "run")
    name = created["containerName"]
    assert created["workspace"] == str(ws)
    assert name == "abtouchx-id"  # the original's sanitising: only [a-z0-9-] survives
    [container] = sandbox.containers()
    assert container.name == name
    assert container.labels["containai.workspace"] == str(ws)
    binds = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert binds["/home/agent/workspace"]["Type"] == "bind"
    assert binds["/home/agent/workspace"]["Source"] == str(ws)
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
    assert env["CAI_HOST_WORKSPACE"] == str(ws)
    code, out = container.exec_run(["ls", "-a", "/home/agent/workspace"])
    assert code == 0 and set(out.decode().split()) == {".", "..", ".git"}

    state = tomllib.loads(sandbox.config_file.read_text())
    assert state["workspace"][str(ws)]["container_name"] == name
    got = sandbox.cai("config", "get", "container_name", cwd=ws)
    assert got.returncode == 0 and got.stdout.split("\t")[0].strip() == name, got

    status = _run(sandbox, ws, "status")
    assert status["container"] == name and status["workspace"] == str(ws)  # the original's object
    fresh = _run(sandbox, ws, "run", "--fresh")
    assert fresh["action"] == "recreate" and fresh["containerName"] == name
    if image == "containai:latest":  # the SSH set-up (keys, host config, login) went fine
        assert fresh["ssh"]["host"] == name
    removed = _run(sandbox, ws, "stop", "--remove")
    assert [r["action"] for r in removed["results"]] == ["removed"]
    assert sandbox.containers() == []
    _no_payload_ran(sandbox.root, before)


def test_workspace_path_with_bind_syntax_is_not_reinterpreted(sandbox):
    """A colon or comma in a path is mount syntax to Docker's `-v`: it must stay a path."""
    ws = sandbox.workspace("x:ro,z")
    TALLY["injection inputs"] += 1
    created = _run(sandbox, ws, "run")
    [container] = sandbox.containers()
    binds = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert binds["/home/agent/workspace"]["Source"] == str(ws)
    assert binds["/home/agent/workspace"]["RW"] is True
    assert container.labels["containai.workspace"] == created["workspace"] == str(ws)


HOSTILE_CONTAINER_NAMES = [
    "a;touch x",
    "$(touch x)",
    "`touch x`",
    "../x",
    "a/b",
    "a b",
    "a\nb",
    "-rm",
    "--force",
    "é",
    "x" * 129,
    "a\x00b",
    "a|b",
    "a&b",
    ".hidden",
]
HOSTILE_VOLUME_NAMES = ["/etc", "../x", "a/b", "a:b", "a b", "$(touch x)", "-v", ".v", "v" * 256]


def test_hostile_names_are_refused_before_docker(sandbox, servers):
    ws = sandbox.workspace("names")
    server = servers(sandbox.env, ws)
    requests: list[tuple[str, dict[str, Any]]] = []
    for name in HOSTILE_CONTAINER_NAMES:
        requests += [
            ("containai/run", {"container": name}),
            ("containai/stop", {"container": name}),
            ("containai/status", {"container": name}),
            ("containai/keep", {"container": name, "keep": True}),
        ]
    for volume in HOSTILE_VOLUME_NAMES:
        requests.append(("containai/run", {"workspace": str(ws), "dataVolume": volume}))
    for method, params in requests:
        TALLY["injection inputs"] += 1
        error = server.request(method, params).get("error") or {}
        reason = (error.get("data") or {}).get("reason")
        # Over-long values are cut by the schema (-32602), the rest by the name rules.
        assert reason in ("invalidName", "invalidParams"), (method, params, error)
    assert sandbox.containers() == []
    assert not volume_names(sandbox.client) & set(HOSTILE_VOLUME_NAMES)
    assert not (ws / "x").exists() and not (sandbox.root / "x").exists()

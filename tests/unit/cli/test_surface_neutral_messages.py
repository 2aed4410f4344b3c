"""Below the server, messages speak protocol — no `cai` flags or commands.

Scans the string literals (not docstrings or comments) of the layers under the server for
CLI-isms: `--flag`, `cai <command>`, `make <target>`, `VAR=1` opt-ins. A flag of another
tool's command line (`docker exec … systemctl --failed`) or an argv element is fine.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import containai_rpc

PACKAGE = Path(containai_rpc.__file__).parent
LAYERS = ("service", "ssh", "workspace", "engine", "core")
MAKEFILE = PACKAGE.parent / "Makefile"

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
ARGV_ELEMENT = re.compile(r"--[a-z][a-z-]*(=.*)?")
OTHER_TOOL = re.compile(r"\b(docker|systemctl|journalctl|git|ssh-keygen|ssh)\b")
CAI = re.compile(r"\bcai [a-z][a-z-]*")
ENV_OPT_IN = re.compile(r"\bCONTAINAI_[A-Z_]+=")


def make_targets() -> list[str]:
    text = MAKEFILE.read_text() if MAKEFILE.exists() else ""
    found = re.findall(r"^([a-z][a-z-]*):", text, re.M)
    return found or ["setup", "images", "engine", "test", "lint"]


MAKE = re.compile(r"\bmake (" + "|".join(map(re.escape, make_targets())) + r")\b")


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            # a bare string statement anywhere in a body (docstring, attribute docstring)
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    ids.add(id(stmt.value))
    return ids


def literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal that is not a docstring; an f-string's
    constant parts joined with `{}` for its holes."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _docstrings(tree)
    parts: set[int] = set()
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = ""
            for value in node.values:
                parts.add(id(value))
                text += value.value if isinstance(value, ast.Constant) else "{}"
            out.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in parts
        ):
            out.append((node.lineno, node.value))
    return out


def cli_isms(text: str) -> list[str]:
    found: list[str] = []
    if not ARGV_ELEMENT.fullmatch(text):
        for flag in FLAG.finditer(text):
            if not OTHER_TOOL.search(text[: flag.start()]):
                found.append(flag.group())
    found += [m.group() for pattern in (CAI, MAKE, ENV_OPT_IN) for m in pattern.finditer(text)]
    return found


def test_the_scanner_sees_what_it_should():
    assert cli_isms("--reset and --fresh are mutually exclusive") == ["--reset", "--fresh"]
    assert cli_isms("Use 'cai status --container <name>'") == ["--container", "cai status"]
    assert cli_isms("Build it with 'make setup'") == ["make setup"]
    assert cli_isms("opt in with CONTAINAI_ALLOW_REDUCED_ISOLATION=1") == [
        "CONTAINAI_ALLOW_REDUCED_ISOLATION="
    ]
    for fine in (
        "--failed",
        "See 'docker exec {} systemctl --failed' and 'journalctl -b'.",
        "Recreate it: docker context create {} --docker host=…",
        "Move {} aside (or make it yours, mode 700)",
        "reset and fresh are mutually exclusive",
        "CONTAINAI_ALLOW_REDUCED_ISOLATION",
    ):
        assert cli_isms(fine) == [], fine


def test_service_layers_speak_protocol_not_cli():
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {hit!r} in {text!r}"
        for layer in LAYERS
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for line, text in literals(path)
        for hit in cli_isms(text)
    ]
    assert not found, "CLI wording below the server (say it in cli/phrasing.py):\n" + "\n".join(
        found
    )

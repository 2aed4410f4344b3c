"""Size limits that keep the package readable: no module over 400 lines, no function over
50. The protocol generator in tools/ may be longer as a module, but its functions keep the
same limit."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "containai_rpc"
EXEMPT: tuple[str, ...] = ()
TOOLS = sorted((ROOT / "tools").glob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def _modules() -> list[tuple[str, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if not name.startswith(EXEMPT):
            found.append((name, path.read_text(encoding="utf-8")))
    return found


def test_no_module_is_too_long():
    long = {
        name: n for name, text in _modules() if (n := len(text.splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_too_long():
    long = {}
    tools = [(f"tools/{p.name}", p.read_text(encoding="utf-8")) for p in TOOLS]
    for name, text in _modules() + tools:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{name}:{node.name}"] = lines
    assert long == {}

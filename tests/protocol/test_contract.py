"""The protocol contract cannot drift: generated files current, everything documented.

`containai_rpc/protocol/` (the pydantic models and `registry.py`) is the single source;
protocol.schema.json, protocol.md's generated blocks and the extension's TypeScript types
must equal what `tools/generate_protocol.py` produces now (the TypeScript part runs
json-schema-to-typescript with node: without node this fails, it does not skip). The
server must register exactly the registry's methods, every `data.reason` the code produces
must be a `Reason`, and protocol.md must document every method, notification, reason and CLI
command.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from containai_rpc.cli.commands import all_commands
from containai_rpc.protocol.reasons import REASONS
from containai_rpc.protocol.registry import METHODS, NOTIFICATIONS
from containai_rpc.server.app import create_server
from tools import generate_protocol as generate

ROOT = generate.ROOT
PACKAGE = ROOT / "containai_rpc"
NAMESPACE_LITERAL = re.compile(r"""["'](containai/[A-Za-z]+)["']""")
# Where a reason is written as a string: `DomainError("x", …)`, `reason="x"` (also the
# engine's `not_found="x"`), `"reason": "x"` and comparisons `reason == "x"`.
REASON_LITERAL = re.compile(
    r"""DomainError\(\s*["'](\w+)["']|(?:reason|not_found)=["'](\w+)["']"""
    r"""|["']reason["']:\s*["'](\w+)["']|reason\s*[!=]=\s*["'](\w+)["']"""
)


def doc() -> str:
    return (ROOT / generate.DOC_FILE).read_text(encoding="utf-8")


def chapter(title: str) -> str:
    """The text of one `## title` chapter of protocol.md."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", doc(), re.M | re.S)
    assert match, f"protocol.md has no chapter '## {title}'"
    return match[1]


def sections(text: str) -> dict[str, str]:
    """`### `name`` sections of a chapter, in order, with their text."""
    parts = re.split(r"^### `([^`]+)`\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


# --------------------------------------------------------------------------- generated files


def test_generated_files_are_current() -> None:
    expected = generate.outputs()
    stale = generate.stale(expected)
    diffs = []
    for path in stale:
        current = (ROOT / path).read_text(encoding="utf-8").splitlines()
        lines = difflib.unified_diff(current, expected[path].splitlines(), str(path), "now")
        diffs.append("\n".join(list(lines)[:40]))
    assert not stale, (
        f"stale: {', '.join(map(str, stale))}; run `.venv/bin/{generate.COMMAND}`\n"
        + "\n".join(diffs)
    )


def test_check_mode_reports_stale_files_and_a_run_fixes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a copy of the checkout: one stale file → `--check` exits 1 naming it; a run fixes."""
    for path in (
        generate.SCHEMA_FILE,
        generate.DOC_FILE,
        generate.TS_FILE,
        generate.EXAMPLE_SCRIPT,
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, tmp_path / path)
    assert generate.main(["--check"], root=tmp_path) == 0
    schema = tmp_path / generate.SCHEMA_FILE
    schema.write_text(schema.read_text().replace('"1.0"', '"0.9"', 1))
    capsys.readouterr()
    assert generate.main(["--check"], root=tmp_path) == 1
    assert f"stale: {generate.SCHEMA_FILE}" in capsys.readouterr().err
    assert generate.main([], root=tmp_path) == 0
    assert generate.main(["--check"], root=tmp_path) == 0


def test_schema_is_2020_12_with_every_message_and_resolvable_refs() -> None:
    schema = json.loads((ROOT / generate.SCHEMA_FILE).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    props = schema["properties"]
    assert list(props["requests"]["properties"]) == [m.name for m in METHODS]
    assert list(props["notifications"]["properties"]) == [n.name for n in NOTIFICATIONS]
    refs = set(_refs(schema))
    assert refs <= {f"#/$defs/{name}" for name in schema["$defs"]}
    for m in METHODS:
        entry = props["requests"]["properties"][m.name]
        assert entry["x-longRunning"] is m.long_running
        assert entry["properties"]["params"]["$ref"] == f"#/$defs/{m.params.__name__}"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_typescript_has_the_name_constants() -> None:
    ts = (ROOT / generate.TS_FILE).read_text(encoding="utf-8")
    for m in METHODS:
        assert f"  {m.name.removeprefix('containai/')}: '{m.name}',\n" in ts
    for n in NOTIFICATIONS:
        assert f"  {n.name.removeprefix('containai/')}: '{n.name}',\n" in ts
    assert f"export interface {METHODS[0].params.__name__} {{" in ts


def test_protocol_md_shows_the_example_script_verbatim() -> None:
    script = (ROOT / generate.EXAMPLE_SCRIPT).read_text(encoding="utf-8")
    assert f"```python\n{script}```" in doc()


# --------------------------------------------------------------------------- registration


def test_the_server_registers_exactly_the_registry_methods() -> None:
    """Introspect create_server()'s feature manager (the real server's own handlers)."""
    features = create_server().protocol.fm.features
    registered = [name for name in features if name.startswith("containai/")]
    assert sorted(registered) == sorted(m.name for m in METHODS)


def test_every_containai_name_in_the_code_is_in_the_registry() -> None:
    """A notification sent (or a method bound) outside the registry would be undocumented."""
    known = {m.name for m in METHODS} | {n.name for n in NOTIFICATIONS}
    used = {
        name
        for path in PACKAGE.rglob("*.py")
        for name in NAMESPACE_LITERAL.findall(path.read_text(encoding="utf-8"))
    }
    assert used <= known, f"not in registry.py: {sorted(used - known)}"


def test_long_running_methods_accept_a_work_done_token() -> None:
    for m in METHODS:
        if m.long_running:
            assert "work_done_token" in m.params.model_fields, m.name


# --------------------------------------------------------------------------- protocol.md


def test_every_method_has_a_complete_section_in_registry_order() -> None:
    requests = sections(chapter("Requests"))
    assert list(requests) == [m.name for m in METHODS]
    examples = re.findall(r"^```json example=[\w-]+\n(.*?)^```$", doc(), re.M | re.S)
    requested = {json.loads(body).get("method") for body in examples}
    for name, text in requests.items():
        assert f"<!-- BEGIN GENERATED: {name} -->" in text
        for part in ("**Errors:**", "**Notifications:**"):
            assert part in text, f"protocol.md, {name}: no {part}"
        assert name in requested, f"protocol.md, {name}: no request example"


def test_every_notification_has_a_section_in_registry_order() -> None:
    notifications = sections(chapter("Notifications"))
    assert list(notifications) == [n.name for n in NOTIFICATIONS]
    for name, text in notifications.items():
        assert f"<!-- BEGIN GENERATED: {name} -->" in text
        assert f'"method": "{name}"' in text, f"protocol.md, {name}: no example"


def _reasons_in_code() -> set[str]:
    return {
        next(g for g in match if g)
        for path in PACKAGE.rglob("*.py")
        for match in REASON_LITERAL.findall(path.read_text(encoding="utf-8"))
    }


def test_every_reason_in_the_code_is_a_reason_of_the_protocol() -> None:
    """A reason string in the code is one of `Reason`'s, and every `Reason` is produced."""
    in_code = _reasons_in_code()
    assert in_code - set(REASONS) == set(), "add to containai_rpc/protocol/reasons.py"
    assert set(REASONS) - in_code == set(), "reasons.py lists reasons the code no longer has"


def test_the_reasons_table_documents_exactly_the_reason_literal() -> None:
    documented = re.findall(r"^\| `(\w+)` \| -32\d{3} \|", chapter("Errors"), re.M)
    assert len(documented) == len(set(documented)), "a reason has two rows"
    assert set(REASONS) - set(documented) == set(), "add to protocol.md's Reasons table"
    assert set(documented) - set(REASONS) == set(), "documented reasons that are not a Reason"


def test_the_schema_and_the_typescript_carry_the_reason_union() -> None:
    schema = json.loads((ROOT / generate.SCHEMA_FILE).read_text(encoding="utf-8"))
    assert schema["$defs"]["Reason"]["enum"] == list(REASONS)
    assert schema["$defs"]["ErrorData"]["properties"]["reason"] == {"$ref": "#/$defs/Reason"}
    ts = (ROOT / generate.TS_FILE).read_text(encoding="utf-8")
    union = "".join(f"\n  | '{r}'" for r in REASONS)
    assert f"export type Reason ={union};" in ts


def test_every_cli_command_is_mapped() -> None:
    rows = re.findall(r"^\| (`cai[^|]*)\| `(containai/\w+)` \|", chapter("CLI mapping"), re.M)
    commands = {name for cell, _ in rows for name in re.findall(r"`cai (\w+)", cell)}
    assert commands >= {c.name for c in all_commands()}
    assert {method for _, method in rows} <= {m.name for m in METHODS}


def test_the_documented_features_are_the_registry_methods() -> None:
    """The initialize example's `features` is the first thing an integrator reads."""
    match = re.search(r'"features": (\[[^\]]*\])', chapter("Lifecycle"))
    assert match, "protocol.md: no features in the initialize example"
    assert json.loads(match[1]) == [m.name.removeprefix("containai/") for m in METHODS]

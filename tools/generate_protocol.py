"""Writes the files derived from the protocol models and registry, or checks they are current.

    python tools/generate_protocol.py [--check]      (or: python -m tools.generate_protocol)

- `protocol.schema.json`: JSON Schema 2020-12 of every message, `$defs` shared;
- the generated blocks of `protocol.md` (`<!-- BEGIN GENERATED: key -->` … `END`): the
  message index, one block per method and notification, the initialize options, the error
  data, the data model and the verbatim example script;
- `editor-extension/src/protocol.generated.ts`: the schema through json-schema-to-typescript
  (pinned in `tools/schema-ts/`), plus `Methods`/`Notifications` name constants.

Everything comes from `registry.METHODS`/`NOTIFICATIONS` and the pydantic models, so a new
entry flows into all three files; `--check` (and tests/protocol/test_contract.py) fails when
a committed file differs from what this module produces now.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from filelock import FileLock
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from containai_rpc.protocol.models import (
    PROTOCOL_VERSION,
    ErrorData,
    InitOptions,
    ServerCapabilities,
)
from containai_rpc.protocol.registry import METHODS, NOTIFICATIONS

ROOT = Path(__file__).resolve().parents[1]
TOOL_DIR = ROOT / "tools" / "schema-ts"
# The generated files and the example script protocol.md shows, relative to a checkout.
SCHEMA_FILE = Path("protocol.schema.json")
DOC_FILE = Path("protocol.md")
TS_FILE = Path("editor-extension/src/protocol.generated.ts")
EXAMPLE_SCRIPT = Path("examples/list_containers.py")
COMMAND = "python tools/generate_protocol.py"
REF_TEMPLATE = "#/$defs/{model}"
NAMESPACE = "containai/"

BLOCK = re.compile(
    r"<!-- BEGIN GENERATED: (?P<key>\S+) -->\n.*?<!-- END GENERATED: (?P=key) -->", re.S
)
# The chapter a new method's (notification's) section is inserted before when no later
# registry entry is documented yet.
REQUESTS_END = "\n## Notifications\n"
NOTIFICATIONS_END = "\n## Standard LSP messages\n"


class GeneratorError(Exception):
    """The generator cannot produce a file (missing tool, damaged protocol.md)."""


class WireSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, adjusted to what actually crosses the wire.

    Results are sent with `wire()` (`exclude_none`): in serialization mode a field is never
    null, and it is always present exactly when its default is not None. Field titles are
    dropped: only models have titles, so they alone name the generated TypeScript types.
    """

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def nullable_schema(self, schema: core_schema.NullableSchema) -> dict[str, Any]:
        if self.mode == "serialization":
            return self.generate_inner(schema["schema"])
        return super().nullable_schema(schema)

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> dict[str, Any]:
        if self.mode == "serialization" and schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def field_is_required(self, field: Any, total: bool) -> bool:
        if self.mode != "serialization":
            return super().field_is_required(field, total)
        inner = field["schema"]
        if inner["type"] == "default":
            if inner.get("default", ...) is None:
                return False
            inner = inner["schema"]
        return bool(inner["type"] != "nullable")


# --------------------------------------------------------------------------- schema


def _schema_models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    """Every top-level message part, with the direction pydantic should describe."""
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = [(InitOptions, "validation")]
    for m in METHODS:
        pairs += [(m.params, "validation"), (m.result, "serialization")]
    pairs += [(n.params, "serialization") for n in NOTIFICATIONS]
    pairs += [(ServerCapabilities, "serialization"), (ErrorData, "serialization")]
    return list(dict.fromkeys(pairs))


def _obj(properties: dict[str, Any], *, closed: bool = True, **extra: Any) -> dict[str, Any]:
    """An object whose properties are all required; `closed`: and nothing else."""
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return {**schema, **({"additionalProperties": False} if closed else {}), **extra}


Refs = dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]


def build_schema() -> dict[str, Any]:
    """The whole protocol as one JSON Schema document: a catalogue whose `$defs` are shared."""
    refs, defs = models_json_schema(
        _schema_models(),
        by_alias=True,
        ref_template=REF_TEMPLATE,
        schema_generator=WireSchema,
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": f"Generated by `{COMMAND}` from containai_rpc/protocol; do not edit.",
        "title": "ContainaiProtocol",
        "description": f"The containai-rpc protocol {PROTOCOL_VERSION} (see protocol.md): "
        "params and result of every request, params of every notification, the initialize "
        "exchange and the `data` of a -32803 error.",
        **_obj(
            {
                "protocolVersion": {"const": PROTOCOL_VERSION},
                **_message_catalogue(refs),
                "errorData": refs[(ErrorData, "serialization")],
            }
        ),
        "$defs": dict(sorted(defs["$defs"].items())),
    }


def _message_catalogue(refs: Refs) -> dict[str, Any]:
    """`requests`, `notifications` and `initialize`: each message's parts, by reference."""

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return refs[(model, mode)]

    requests = {
        m.name: _obj(
            {"params": ref(m.params, "validation"), "result": ref(m.result, "serialization")},
            description=m.summary,
            **{"x-longRunning": m.long_running},
        )
        for m in METHODS
    }
    notifications = {
        n.name: _obj({"params": ref(n.params, "serialization")}, description=n.summary)
        for n in NOTIFICATIONS
    }
    # LSP's own initialize params and result carry much more: these objects stay open.
    options = {"type": "object", "properties": {"containai": ref(InitOptions, "validation")}}
    answer = _obj({"containai": ref(ServerCapabilities, "serialization")}, closed=False)
    initialize = _obj(
        {
            "initializationOptions": options,
            "capabilities": _obj({"experimental": answer}, closed=False),
        },
        closed=False,
        description="The containai parts of the LSP `initialize` params and result.",
    )
    return {
        "requests": _obj(requests),
        "notifications": _obj(notifications),
        "initialize": initialize,
    }


def render_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- protocol.md


def _def_name(node: dict[str, Any]) -> str:
    return str(node["$ref"]).rsplit("/", 1)[1]


def _code(text: str) -> str:
    return f"`{text}`"


def type_text(node: dict[str, Any]) -> str:
    """A JSON Schema node as a short TypeScript-like type, table-safe (pipes escaped)."""
    if "$ref" in node:
        name = _def_name(node)
        return f"[`{name}`](#{name.lower()})"
    if "anyOf" in node:
        return " \\| ".join(type_text(x) for x in node["anyOf"])
    if "const" in node:
        return _code(json.dumps(node["const"]))
    if "enum" in node:
        return " \\| ".join(_code(json.dumps(v)) for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        items = node.get("items", {})
        if set(items) == {"type"}:  # a plain `string[]`
            return _code(f"{items['type']}[]")
        item = type_text(items)
        return f"({item})[]" if "\\|" in item else f"{item}[]"
    return _code(str(kind)) if kind else "any"


def _constraints(node: dict[str, Any]) -> str:
    parts = []
    if "maxLength" in node:
        parts.append(f"At most {node['maxLength']} characters.")
    if "pattern" in node:
        parts.append(f"Pattern `{node['pattern']}`.")
    for alt in node.get("anyOf", []):
        parts.append(_constraints(alt))
    return " ".join(p for p in parts if p)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def field_table(model: dict[str, Any], *, result: bool, defs: dict[str, Any] | None = None) -> str:
    """One row per property: name, type, required (params) / present (results), description."""
    props: dict[str, Any] = model.get("properties", {})
    if not props:
        return "No fields: send `{}`." if not result else "An empty object `{}`."
    required = set(model.get("required", []))
    head = "Present" if result else "Required"
    rows = [f"| Field | Type | {head} | Description |", "|---|---|---|---|"]
    for name, node in props.items():
        if result:
            need = "always" if name in required else "optional"
        elif name in required:
            need = "**yes**"
        else:
            default = node.get("default")
            need = "no" if default is None else f"no (default {_code(json.dumps(default))})"
        described = node.get("description") or _ref_description(node, defs or {})
        text = " ".join(x for x in (described, _constraints(node)) if x)
        rows.append(f"| `{name}` | {type_text(node)} | {need} | {_cell(text)} |")
    return "\n".join(rows)


def _ref_description(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """The description of the definition a bare `$ref` property points to (an enum alias)."""
    target = defs.get(_def_name(node), {}) if "$ref" in node else {}
    return str(target.get("description", "")) if "enum" in target else ""


def _model_table(defs: dict[str, Any], name: str, label: str | None, *, result: bool) -> str:
    """A model's table, introduced by `label` and the model's docstring."""
    model = defs[name]
    intro = [f"**{label}** `{name}`"] if label else []
    if model.get("description"):
        intro.append(_cell(model["description"]))
    return "\n\n".join(
        x for x in (": ".join(intro), field_table(model, result=result, defs=defs)) if x
    )


def _anchor(name: str) -> str:
    """GitHub's anchor of a heading "### `containai/run`"."""
    return re.sub(r"[^a-z0-9 _-]", "", name.lower()).replace(" ", "-")


LONG_RUNNING_TEXT = (
    "long-running: `$/progress` (`begin`, a `report` per step, `end`) under the "
    "params' `workDoneToken`, or under a token the server creates with "
    "`window/workDoneProgress/create` when the client declared "
    "`window.workDoneProgress`; cancellable."
)
SHORT_TEXT = "short: a `workDoneToken`, if sent, gets only `begin` and `end`."
INDEX_HEAD = [
    "| Message | Kind | Direction | Progress | Summary |",
    "|---|---|---|---|---|",
]


def doc_blocks(schema: dict[str, Any], example_script: str) -> dict[str, str]:
    """The content of every generated block of protocol.md, by key."""
    defs: dict[str, Any] = schema["$defs"]
    props = schema["properties"]
    blocks = {**_method_blocks(defs, props), **_notification_blocks(defs, props)}
    blocks["index"] = "\n".join(INDEX_HEAD + _index_rows())
    blocks["initialize"] = _initialize_block(defs, props["initialize"]["properties"])
    blocks["errorData"] = _model_table(
        defs, _def_name(props["errorData"]), "`error.data`", result=True
    )
    nested = sorted({name for model in defs.values() for name in _refs(model)})
    blocks["types"] = "\n\n".join(f"### `{name}`\n\n{_def_text(defs, name)}" for name in nested)
    blocks[EXAMPLE_SCRIPT.as_posix()] = f"```python\n{example_script}```"
    return blocks


def _index_rows() -> list[str]:
    """The message index: one row per request, then per notification."""
    rows = [
        f"| [`{m.name}`](#{_anchor(m.name)}) | request | client → server | "
        f"{'yes' if m.long_running else 'no'} | {_cell(m.summary)} |"
        for m in METHODS
    ]
    rows += [
        f"| [`{n.name}`](#{_anchor(n.name)}) | notification | server → client | — | "
        f"{_cell(n.summary)} |"
        for n in NOTIFICATIONS
    ]
    return rows


def _method_blocks(defs: dict[str, Any], props: dict[str, Any]) -> dict[str, str]:
    """Each request's block: summary, direction, progress, params and result tables."""
    blocks = {}
    for m in METHODS:
        entry = props["requests"]["properties"][m.name]["properties"]
        progress = LONG_RUNNING_TEXT if m.long_running else SHORT_TEXT
        blocks[m.name] = "\n\n".join(
            [
                m.summary,
                f"- **Direction:** client → server (request)\n- **Progress:** {progress}",
                _model_table(defs, _def_name(entry["params"]), "Params", result=False),
                _model_table(defs, _def_name(entry["result"]), "Result", result=True),
            ]
        )
    return blocks


def _notification_blocks(defs: dict[str, Any], props: dict[str, Any]) -> dict[str, str]:
    """Each notification's block: summary, direction, params table."""
    blocks = {}
    for n in NOTIFICATIONS:
        entry = props["notifications"]["properties"][n.name]["properties"]
        blocks[n.name] = "\n\n".join(
            [
                n.summary,
                "- **Direction:** server → client (notification)",
                _model_table(defs, _def_name(entry["params"]), "Params", result=True),
            ]
        )
    return blocks


def _initialize_block(defs: dict[str, Any], init: dict[str, Any]) -> str:
    """The containai parts of `initialize`: the options sent and the capabilities answered."""
    options = init["initializationOptions"]["properties"]["containai"]
    answer = init["capabilities"]["properties"]["experimental"]["properties"]["containai"]
    return "\n\n".join(
        [
            _model_table(defs, _def_name(options), "In the `initialize` params", result=False),
            _model_table(defs, _def_name(answer), "In the `initialize` result", result=True),
        ]
    )


def _def_text(defs: dict[str, Any], name: str) -> str:
    """A shared definition: a model's table, or an enum's values (`Reason`: see the table)."""
    node = defs[name]
    if "enum" not in node:
        return _model_table(defs, name, None, result=True)
    where = "; each is explained in the [Reasons](#reasons) table" if name == "Reason" else ""
    return f"One of {len(node['enum'])} strings{where}:\n\n{type_text(node)}"


def _refs(node: Any) -> Iterable[str]:
    """Names of the $defs a schema node refers to, at any depth."""
    if isinstance(node, dict):
        if "$ref" in node:
            yield _def_name(node)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _with_missing_sections(text: str, names: list[str], end: str) -> str:
    """Adds a section for every registry entry protocol.md lacks, in registry order."""
    present = set(block_keys(text))
    for i, name in enumerate(names):
        if name in present:
            continue
        later = [f"\n### `{x}`\n" for x in names[i + 1 :] if x in present]
        anchor = next((a for a in later if a in text), end)
        if anchor not in text:
            raise GeneratorError(f"protocol.md: cannot place a section for {name}: no {end!r}")
        section = f"\n### `{name}`\n\n{_markers(name, '')}\n"
        text = text.replace(anchor, section + anchor, 1)
        present.add(name)
    return text


def block_keys(text: str) -> list[str]:
    """The keys of the generated blocks in `text`, in order."""
    return [m["key"] for m in BLOCK.finditer(text)]


def _markers(key: str, body: str) -> str:
    inner = f"{body}\n" if body else ""
    return f"<!-- BEGIN GENERATED: {key} -->\n{inner}<!-- END GENERATED: {key} -->"


def render_doc(text: str, blocks: dict[str, str]) -> str:
    """protocol.md with every generated block replaced and missing sections added."""
    text = _with_missing_sections(text, [m.name for m in METHODS], REQUESTS_END)
    text = _with_missing_sections(text, [n.name for n in NOTIFICATIONS], NOTIFICATIONS_END)
    missing = set(blocks) - set(block_keys(text))
    if missing:
        raise GeneratorError(
            "protocol.md lacks the generated blocks "
            + ", ".join(_markers(k, "") for k in sorted(missing))
        )
    return BLOCK.sub(lambda m: _markers(m["key"], blocks.get(m["key"], "")), text)


# --------------------------------------------------------------------------- TypeScript


def _tool_installed() -> bool:
    """node_modules holds the json-schema-to-typescript version package-lock.json pins."""
    lock = json.loads((TOOL_DIR / "package-lock.json").read_text(encoding="utf-8"))
    wanted = lock["packages"]["node_modules/json-schema-to-typescript"]["version"]
    installed = TOOL_DIR / "node_modules" / "json-schema-to-typescript" / "package.json"
    if not installed.exists():
        return False
    return bool(json.loads(installed.read_text(encoding="utf-8"))["version"] == wanted)


def _ensure_tool() -> None:
    """`npm ci` in tools/schema-ts when its node_modules is missing or stale (locked)."""
    for program in ("node", "npm"):
        if shutil.which(program) is None:
            raise GeneratorError(f"{program} is required to generate {TS_FILE.name}")
    with FileLock(str(TOOL_DIR / ".install.lock"), timeout=300):
        if _tool_installed():
            return
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=TOOL_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise GeneratorError(f"npm ci in {TOOL_DIR} failed:\n{done.stderr.strip()}")


TS_LOOKUPS = """\
/** Typed lookups: `ParamsOf<'containai/run'>` is `RunParams`, and so on. */
export type MethodName = keyof ContainaiProtocol['requests'];
export type ParamsOf<M extends MethodName> = ContainaiProtocol['requests'][M]['params'];
export type ResultOf<M extends MethodName> = ContainaiProtocol['requests'][M]['result'];
export type NotificationName = keyof ContainaiProtocol['notifications'];
export type NotificationParamsOf<N extends NotificationName> =
  ContainaiProtocol['notifications'][N]['params'];
"""


def _ts_constants(kind: str, names: Iterable[str]) -> str:
    rows = "".join(f"  {n.removeprefix(NAMESPACE)}: '{n}',\n" for n in names)
    return f"export const {kind} = {{\n{rows}}} as const;\n"


def render_ts(schema: dict[str, Any]) -> str:
    """The TypeScript types of the schema (json-schema-to-typescript), plus name constants."""
    _ensure_tool()
    done = subprocess.run(
        ["node", str(TOOL_DIR / "json2ts.mjs")],
        input=json.dumps(schema),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise GeneratorError(f"json-schema-to-typescript failed:\n{done.stderr.strip()}")
    return "\n".join(
        [
            f"// Generated by `{COMMAND}` from protocol.schema.json",
            "// (json-schema-to-typescript, pinned in tools/schema-ts). Do not edit.",
            "",
            f"export const PROTOCOL_VERSION = '{PROTOCOL_VERSION}';",
            "",
            "/** Requests the server answers (client → server). */",
            _ts_constants("Methods", (m.name for m in METHODS)),
            "/** Notifications the server sends (server → client). */",
            _ts_constants("Notifications", (n.name for n in NOTIFICATIONS)),
            TS_LOOKUPS,
            done.stdout,
        ]
    )


# --------------------------------------------------------------------------- driver


def outputs(root: Path = ROOT) -> dict[Path, str]:
    """What every generated file under `root` must contain now (keys relative to root)."""
    schema = build_schema()
    doc = (root / DOC_FILE).read_text(encoding="utf-8")
    script = (root / EXAMPLE_SCRIPT).read_text(encoding="utf-8")
    return {
        SCHEMA_FILE: render_schema(schema),
        DOC_FILE: render_doc(doc, doc_blocks(schema, script)),
        TS_FILE: render_ts(schema),
    }


def stale(expected: dict[Path, str], root: Path = ROOT) -> list[Path]:
    """The files under `root` whose content differs from `expected`."""
    return [
        path
        for path, text in expected.items()
        if not (root / path).exists() or (root / path).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    try:
        expected = outputs(root)
    except GeneratorError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    changed = stale(expected, root)
    if args.check:
        for path in changed:
            print(f"stale: {path} (run `{COMMAND}`)", file=sys.stderr)
        return 1 if changed else 0
    for path in changed:
        (root / path).write_text(expected[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

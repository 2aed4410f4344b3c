"""Set keys of one table in a TOML text, keeping everything else byte for byte.

tomlkit keeps comments and layout, but parsing a whole file with many `[a."b"]` tables
costs time quadratic in their number (hundreds of workspaces took seconds). So a small
lexer that knows TOML's strings, comments and brackets splits the text at its table
headers; only the edited table's span goes through tomlkit, and the new span must read
back, on its own, as exactly the intended table before it replaces the old one. The cost
is linear in the file's size.

Layouts this does not handle (a table written as an inline table or with dotted keys,
a header spelled unusually) return None; the caller then uses `edit_document`, which
edits the whole document and checks the whole result.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import InlineTable

from containai_rpc.workspace.tomlfile import damaged

Values = dict[str, Any]
"""Keys to set; a None value removes the key."""

# Tokens that can change how the rest of a line is read; everything else is skipped.
_TOKEN = re.compile(r'"""|\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}]|\n')
_ML_BASIC_REST = re.compile(r'(?:[^"\\]|\\[\s\S]|"(?!""))*""""{0,2}')
_ML_LITERAL_REST = re.compile(r"[\s\S]*?'''(?:'{0,2})")
# A run of lines that cannot open a header, string or value spanning lines: blank lines,
# comments, and `key = value` with a plain key and a one-line string or bare scalar.
_SIMPLE_LINES = re.compile(
    r"""(?:[ \t]*(?:(?:[A-Za-z0-9_-]+|"[^"\\\n]*")[ \t]*=[ \t]*"""
    r"""(?:"[^"\\\n]*"|'[^'\n]*'|[A-Za-z0-9_:.+-]+)[ \t]*)?(?:#[^\n]*)?\r?\n)+"""
)
_LONE_LF = re.compile(r"(?<!\r)\n")
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


class _Unsupported(Exception):
    """The text is outside what the span editor handles."""


@dataclass(frozen=True)
class _Header:
    start: int  # offset of the header's line
    line: str  # the header line, without its newline


def _headers(text: str) -> list[_Header]:
    """Every `[table]` / `[[array]]` header line, found outside strings and values."""
    headers: list[_Header] = []
    depth = 0  # open brackets and braces of a value that spans lines
    line_start = 0
    blank = True  # nothing but white space before this token on its line
    pos = 0
    while True:
        if blank and depth == 0 and (skip := _SIMPLE_LINES.match(text, pos)):
            pos = line_start = skip.end()  # the common case, a whole run at once
        if not (match := _TOKEN.search(text, pos)):
            break
        token, pos = match.group(), match.end()
        if token == "\n":
            line_start, blank = pos, True
            continue
        if blank and text[line_start : match.start()].strip():
            blank = False
        if token in ('"""', "'''"):
            rest = (_ML_BASIC_REST if token == '"""' else _ML_LITERAL_REST).match(text, pos)
            if rest is None:
                raise _Unsupported("unterminated multi-line string")
            pos, blank = rest.end(), False
        elif token == "[" and depth == 0 and blank:
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            headers.append(_Header(line_start, text[line_start:end].rstrip("\r")))
            pos = end  # only a comment can follow a header on its line
        elif token in "[{":
            depth, blank = depth + 1, False
        elif token in "]}":
            depth, blank = depth - 1, False
        elif not token.startswith("#"):
            blank = False
    if depth != 0:
        raise _Unsupported("unbalanced brackets")
    return headers


def _header_path(line: str) -> tuple[str, ...] | None:
    """The key path of a `[a."b"]` header line; None for an array-of-tables header."""
    try:
        data: Any = tomllib.loads(line)
    except tomllib.TOMLDecodeError as exc:
        raise _Unsupported(f"unreadable header {line!r}") from exc
    path: list[str] = []
    while isinstance(data, dict) and len(data) == 1:
        key, data = next(iter(data.items()))
        path.append(key)
    return tuple(path) if data == {} else None


def _header_text(path: tuple[str, ...]) -> str:
    return f"[{tomlkit.key(list(path)).as_string()}]"


def _find(headers: list[_Header], path: tuple[str, ...]) -> int | None:
    """Index of the header that opens `path`: its usual spelling first, then any."""
    usual = re.compile(re.escape(_header_text(path)) + r"[ \t]*(?:#.*)?\Z")
    for i, header in enumerate(headers):
        if usual.match(header.line.strip()):
            return i  # a valid file defines a table only once
    return next((i for i, h in enumerate(headers) if _header_path(h.line) == path), None)


def _nested(path: tuple[str, ...], table: dict[str, Any]) -> dict[str, Any]:
    for key in reversed(path):
        table = {key: table}
    return table


def _reads_as(text: str, expected: dict[str, Any]) -> bool:
    try:
        return tomllib.loads(text) == expected
    except tomllib.TOMLDecodeError:
        return False


def _apply(table: Any, values: Values) -> None:
    for key, value in values.items():
        if value is None:
            if key in table:
                del table[key]
        else:
            table[key] = value


def _edit_span(span: str, path: tuple[str, ...], values: Values) -> str:
    """The span of one table (its header to the next), with `values` applied by tomlkit.

    Blank and comment lines at the end of a span usually introduce the next table, so a
    new key goes before them, after the table's last key.
    """
    lines = _LINE.findall(span)
    cut = len(lines)
    while cut > 1 and (not lines[cut - 1].strip() or lines[cut - 1].lstrip().startswith("#")):
        cut -= 1
    body, rest = "".join(lines[:cut]), "".join(lines[cut:])
    try:
        doc = tomlkit.parse(body if body.endswith("\n") else body + "\n")
        table: Any = doc
        for key in path:
            table = table[key]
        _apply(table, values)
        new = tomlkit.dumps(doc)
    except (TOMLKitError, KeyError) as exc:
        raise _Unsupported(f"tomlkit cannot edit the span: {exc}") from exc
    if "\r\n" in body and not _LONE_LF.search(body):
        new = _LONE_LF.sub("\r\n", new)  # tomlkit writes new lines with \n only
    return new + rest


def _can_append(data: dict[str, Any], headers: list[_Header], path: tuple[str, ...]) -> bool:
    """A new `[path]` header at the end is valid TOML: its parent is absent or was made
    by headers (not an inline table or a value)."""
    if len(path) == 1 or path[0] not in data:
        return path[0] not in data
    parent = _header_text(path[:1])[:-1]
    return any(h.line.strip().startswith((parent + ".", parent + "]")) for h in headers)


def set_keys(text: str, data: dict[str, Any], path: tuple[str, ...], values: Values) -> str | None:
    """`text` with the keys of table `path` set (None removes them), or None when its
    layout needs a whole-document edit. `data` is `text` parsed; it is not changed."""
    table: Any = data
    for key in path:
        table = table.get(key) if isinstance(table, dict) else None
    try:
        headers = _headers(text)
        if table is None:
            if not _can_append(data, headers, path):
                return None
            new_table = {k: v for k, v in values.items() if v is not None}
            span = _edit_span(_header_text(path) + "\n", path, new_table)
            if not _reads_as(span, _nested(path, new_table)):
                return None
            head = text if not text or text.endswith("\n") else text + "\n"
            return head + ("\n" if head.strip() else "") + span
        index = _find(headers, path)
        if index is None or not isinstance(table, dict):
            return None
        start = headers[index].start
        end = headers[index + 1].start if index + 1 < len(headers) else len(text)
        old = text[start:end]
        new_table = dict(table)
        _apply(new_table, values)
        new = _edit_span(old, path, values)
        if not (_reads_as(old, _nested(path, table)) and _reads_as(new, _nested(path, new_table))):
            return None
        return text[:start] + new + text[end:]
    except _Unsupported:
        return None


def _canonical(data: object) -> str:
    # JSON with str() for dates, so NaN == NaN and datetimes compare by value
    return json.dumps(data, sort_keys=True, default=str)


def edit_document(
    file: Path, text: str, path: tuple[str, ...], values: Values, expected: dict[str, Any]
) -> str:
    """The whole-document edit for layouts `set_keys` leaves alone (inline or dotted-key
    tables): slower, and checked against the intended data (`expected`) as a whole."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise damaged(
            file,
            f"cannot be edited safely: {exc}",
            f"Simplify the TOML around that position in {file}.",
            "stateFileInvalid",
        ) from None
    table: Any = doc
    for key in path:
        if key not in table:
            table[key] = tomlkit.inline_table() if isinstance(table, InlineTable) else {}
        table = table[key]
    _apply(table, values)
    new = tomlkit.dumps(doc)
    try:
        reads_back = _canonical(tomllib.loads(new)) == _canonical(expected)
    except tomllib.TOMLDecodeError:
        reads_back = False
    if not reads_back:
        raise damaged(
            file,
            "refusing to write: the edited file would not read back as edited",
            f"Simplify the layout of {file} (plain [table] headers) and retry.",
            "stateFileInvalid",
        )
    return new

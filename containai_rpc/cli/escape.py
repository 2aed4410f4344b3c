"""Terminal-safe text: every human line `cai` prints goes through `printable`.

Names come from folders, containers and the server; a folder named with an escape
sequence must not retitle or recolour the terminal, nor a bidi override reorder a line.
Control characters (C0 but newline and tab, DEL, C1) become `\\xNN`, bidi controls
(embeddings, overrides, isolates, LRM/RLM, ALM) `\\uNNNN`. `json_text` keeps `--json`
exact JSON while escaping the same characters (json.dumps escapes only C0).
"""

from __future__ import annotations

import json
import re
from typing import Any

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` with control and bidi characters shown as escapes; newlines and tabs stay
    unless `one_line` (a value that must not start a new line of its own)."""
    return (_UNSAFE_LINE if one_line else _UNSAFE).sub(_escape, text)


def json_text(value: Any) -> str:
    """`json.dumps(value, indent=2)` with DEL, C1 and bidi controls as `\\uNNNN` too.

    Those characters can only occur inside JSON strings, where the escape means the same.
    """
    return _JSON_UNSAFE.sub(
        lambda m: f"\\u{ord(m[0]):04x}", json.dumps(value, indent=2, ensure_ascii=False)
    )


def printable_values(value: Any) -> Any:
    """A result with every string escaped for one line, before a command renders it: a
    name holding a newline cannot forge a line of its own in the table around it."""
    if isinstance(value, str):
        return printable(value, one_line=True)
    if isinstance(value, dict):
        return {k: printable_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable_values(v) for v in value]
    return value

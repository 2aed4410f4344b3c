"""Names from folders and containers cannot drive the terminal: control and bidi
characters are escaped in every human line `cai` prints, and `--json` stays exact JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from containai_rpc.cli import main as cli_main
from containai_rpc.cli.escape import json_text, printable
from containai_rpc.cli.process import RpcError

EVIL = "ws\x1b]0;pwned\x07\x1b[31mred\u202eexe.txt\u2066\u200f\x9b\x7fend"
ESCAPED = "ws\\x1b]0;pwned\\x07\\x1b[31mred\\u202eexe.txt\\u2066\\u200f\\x9b\\x7fend"


def _run_cai(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], result: dict[str, Any] | Exception
) -> int:
    async def fake_execute(command: Any, args: Any) -> dict[str, Any]:
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(cli_main, "execute", fake_execute)
    with pytest.raises(SystemExit) as exit_:
        cli_main.main(argv)
    return int(exit_.value.code or 0)


def _no_raw_controls(text: str) -> None:
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) <= 0x9F]
    bad += [c for c in text if c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]
    bad += [c for c in text if c in "\u200e\u200f\u061c"]
    assert not bad, text


def test_printable_escapes_c0_c1_del_and_bidi_but_keeps_newlines() -> None:
    assert printable(EVIL) == ESCAPED
    assert printable("a\nb\tc") == "a\nb\tc"
    assert printable("a\nb\tc", one_line=True) == "a\\x0ab\\x09c"
    assert printable("\u061c\u200e\u202a\u202b\u202c\u202d\u2067\u2068\u2069") == (
        "\\u061c\\u200e\\u202a\\u202b\\u202c\\u202d\\u2067\\u2068\\u2069"
    )
    assert printable("café ünïcode ✓") == "café ünïcode ✓"


def test_json_text_is_exact_json_with_c1_and_bidi_escaped() -> None:
    value = {"name": EVIL, "plain": "café"}
    text = json_text(value)
    assert json.loads(text) == value
    _no_raw_controls(text)
    assert "café" in text


def test_cai_list_escapes_names_and_workspaces(monkeypatch, capsys) -> None:
    result = {
        "containers": [
            {"name": EVIL, "status": "running", "context": "default", "workspace": f"/w/{EVIL}"},
            {"name": "line\nforged  running", "status": "exited", "context": "x"},
        ],
        "errors": [{"context": "c\x1b[2J", "message": "gone\u202e"}],
    }
    assert _run_cai(monkeypatch, ["list"], result) == 0
    out = capsys.readouterr().out
    _no_raw_controls(out)
    assert ESCAPED in out and f"/w/{ESCAPED}" in out
    assert "line\\x0aforged" in out
    assert len(out.strip().splitlines()) == 3


def test_cai_list_json_keeps_exact_values(monkeypatch, capsys) -> None:
    result = {"containers": [{"name": EVIL}], "revision": 1}
    assert _run_cai(monkeypatch, ["list", "--json"], result) == 0
    out = capsys.readouterr().out
    _no_raw_controls(out)
    assert json.loads(out) == result


def test_cai_run_output_escapes_workspace_and_warnings(monkeypatch, capsys) -> None:
    result = {
        "containerName": "shop-main",
        "state": "running",
        "action": "create",
        "workspace": f"/home/u/{EVIL}",
        "dataVolume": "v",
        "image": "img",
        "context": "default",
        "warnings": [f"odd {EVIL}"],
    }
    assert _run_cai(monkeypatch, ["run", "-w", "/tmp"], result) == 0
    out = capsys.readouterr().out
    _no_raw_controls(out)
    assert f"/home/u/{ESCAPED}" in out and f"odd {ESCAPED}" in out


def test_error_and_hint_lines_are_escaped(monkeypatch, capsys) -> None:
    error = RpcError(
        -32803,
        f"Workspace not found: /w/{EVIL}",
        {"reason": "workspaceNotFound", "hint": f"cd /w/{EVIL}"},
    )
    assert _run_cai(monkeypatch, ["run", "-w", "/tmp"], error) == 1
    err = capsys.readouterr().err
    _no_raw_controls(err)
    assert ESCAPED in err and err.startswith("[ERROR] ")


def test_usage_error_is_escaped(capsys) -> None:
    with pytest.raises(SystemExit):
        cli_main.main(["list", f"--{EVIL}"])
    err = capsys.readouterr().err
    _no_raw_controls(err)
    assert ESCAPED in err

"""`cai doctor [--json] [--context NAME]`: the original's report layout.

Exit 0 only when nothing is an error (warnings allowed), else 1.
"""

from __future__ import annotations

import argparse
from typing import Any

from containai_rpc.cli.commands.base import Command, params
from containai_rpc.cli.phrasing import phrase_finding

SECTIONS = {
    "docker": "Docker",
    "isolation": "Isolation",
    "image": "Image",
    "ssh": "SSH",
    "config": "Configuration",
}
_STATUS = {"ok": "[OK]", "warn": "[WARN]", "error": "[ERROR]", "skip": "[SKIP]"}


def _line(label: str, text: str) -> str:
    """The original's `printf '  %-44s %s'`."""
    return f"  {label:<44} {text}".rstrip()


def render_doctor(r: dict[str, Any]) -> str:
    out = ["ContainAI Doctor", "================"]
    section = None
    for check in r["checks"]:
        name = check["id"].split(".", 1)[0]
        if name != section:
            section = name
            out += ["", SECTIONS.get(name, name.title())]
        out.append(_line(f"{check['title']}:", f"{_STATUS[check['status']]} {check['detail']}"))
        hint = phrase_finding(check)
        if hint and check["status"] in ("warn", "error"):
            out.append(_line("", hint))
    warnings = sum(c["status"] == "warn" for c in r["checks"])
    errors = sum(c["status"] == "error" for c in r["checks"])
    if r["ok"]:
        status = "[OK] Ready" + (f" ({warnings} warning(s))" if warnings else "")
    else:
        status = f"[ERROR] Not ready ({errors} error(s), {warnings} warning(s))"
    out += [
        "",
        "Summary",
        _line("Isolation:", r.get("isolation") or "none"),
        _line("Status:", status),
        _line("Recommended:", r["recommendedAction"]),
    ]
    return "\n".join(out)


def _request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    return "containai/doctor", params(args, "context")


COMMANDS = (
    Command(
        "doctor",
        "check engine, contexts, isolation, image, SSH and config; exit 1 unless ready",
        lambda p: None,
        _request,
        render_doctor,
        failed=lambda r: not r["ok"],
    ),
)

"""The server's errors and doctor hints in `cai` words: flags and commands.

The service speaks protocol (reasons, param names, details); this is the CLI's side of
that contract. A reason not listed here keeps the server's own message and hint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

FLAGS = {
    "all": "--all",
    "allowSystemWorkspace": "--allow-system-workspace",
    "approveVolume": "--approve-volume",
    "container": "--container",
    "context": "--context",
    "dataVolume": "--data-volume",
    "force": "--force",
    "fresh": "--fresh",
    "remove": "--remove",
    "reset": "--reset",
    "restart": "--restart",
    "workspace": "--workspace",
}
"""Protocol param name → `cai` flag (the ones errors name)."""

FRESH = "Use --fresh (cai run --fresh)"
REDUCED = "CONTAINAI_ALLOW_REDUCED_ISOLATION=1 or [isolation] allow_reduced = true"
FREE_PORTS = (
    "Remove unused containers (cai stop --all --remove, cai gc) or widen "
    "[ssh] port_range_start/port_range_end."
)

_PAIR_HINTS = {
    frozenset({"reset", "fresh"}): (
        "--fresh recreates the container with the same volume; --reset generates a new volume."
    ),
    frozenset({"reset", "dataVolume"}): (
        "--reset generates a new unique volume name; use --data-volume alone to pick a volume."
    ),
}


def flag(param: str) -> str:
    return FLAGS.get(param, f"--{param}")


Phrase = Callable[[str, str | None, Mapping[str, Any], str], tuple[str, str | None]]


def _conflicting(message: str, hint: str | None, data: Mapping[str, Any], _cmd: str):
    options = data.get("options")
    if not isinstance(options, list) or len(options) < 2:
        return message, hint
    names = [str(o) for o in options]
    text = " and ".join(flag(o) for o in names) + " are mutually exclusive"
    return text, _PAIR_HINTS.get(frozenset(names), hint)


def _hint(text: str) -> Phrase:
    return lambda message, _hint, _data, _cmd: (message, text)


def _not_found(message: str, hint: str | None, data: Mapping[str, Any], command: str):
    if not data.get("workspace"):  # a named container that is gone: nothing to add
        return message, hint
    return message, f"Use 'cai {command} --container <name>' to pick one (cai list shows them)."


def _mismatch(message: str, hint: str | None, data: Mapping[str, Any], _cmd: str):
    name = data.get("container") or "<name>"
    return message, f"Use --container {name}, or fix the workspace state."


def _doctor(message: str, hint: str | None, _data: Mapping[str, Any], _cmd: str):
    if hint and hint.endswith("then run doctor."):
        hint = hint.removesuffix("doctor.") + "'cai doctor'."
    return message, hint


def _host_key(message: str, hint: str | None, _data: Mapping[str, Any], _cmd: str):
    if hint:
        hint = hint.replace("recreate it with a fresh run", "run it with 'cai run --fresh'")
    return message, hint


def _confirm(message: str, hint: str | None, _data: Mapping[str, Any], command: str):
    """No terminal to ask on and no `--yes`: say which flag answers the question."""
    warning, _, question = message.rpartition(". ")
    what = f"{warning}: " if warning else ""
    return (
        f"{what}'{question or message}' needs an answer, but there is no terminal to ask on.",
        f"Repeat 'cai {command}' with --yes (or CAI_YES=1) to answer yes, or run it on a terminal.",
    )


REASONS: dict[str, Phrase] = {
    "ambiguousContainer": _hint("Pass --context to pick one, or remove or rename the duplicate."),
    "confirmationRequired": _confirm,
    "conflictingOptions": _conflicting,
    "invalidParams": lambda m, h, d, _c: _invalid(m, h, d),
    "containerNotFound": _not_found,
    "engineUnavailable": _doctor,
    "hostKeyChanged": _host_key,
    "imageNotFound": _hint(
        "Build it with 'make setup' (scripts/images.sh) or pull it into this context."
    ),
    "isolationUnavailable": _hint(
        f"Install Sysbox (see 'cai doctor'), or opt in to reduced isolation with {REDUCED}."
    ),
    "multipleContainers": _hint("Use --container to specify which one."),
    "contextMismatch": lambda m, _h, d, _c: (
        m,
        f"Run without --context to use it, or remove it first "
        f"('cai stop --remove --context {d.get('context')}'); its data volume stays there.",
    ),
    "portsExhausted": _hint(FREE_PORTS),
    "templateMismatch": _hint(
        f"{FRESH} to rebuild it from the requested template (the data volume is kept)."
    ),
    "unexpectedState": _hint(f"{FRESH} to recreate it."),
    "volumeMismatch": _hint(
        f"{FRESH} to recreate the container on the requested volume (the current volume is kept)."
    ),
    "workspaceMismatch": _mismatch,
    "volumeNotApproved": lambda m, h, _d, _c: (
        m,
        (h or "")
        .replace("run again with approveVolume", "run again with 'cai run --approve-volume'")
        .replace("pass dataVolume", "pass --data-volume"),
    ),
    "workspaceRefused": _hint(
        "Use a project directory as the workspace, or --allow-system-workspace to mount it anyway."
    ),
}


def _invalid(message: str, hint: str | None, data: Mapping[str, Any]) -> tuple[str, str | None]:
    """`Invalid --memory: <what pydantic says>` rather than only the field names."""
    errors = data.get("errors")
    if not isinstance(errors, list) or not errors:
        return message, hint
    parts = []
    for error in errors:
        loc = error.get("loc") if isinstance(error, dict) else None
        name = flag(str(loc[0])) if isinstance(loc, list) and loc else "params"
        parts.append(f"{name}: {error.get('msg') if isinstance(error, dict) else error}")
    return "Invalid " + "; ".join(parts), hint


def phrase_error(
    message: str, data: Mapping[str, Any], command: str = "run"
) -> tuple[str, str | None]:
    """(message, hint) for `[ERROR]`/`[HINT]`: `cai` words for what the server said in
    protocol words (`command`: the subcommand that sent the request)."""
    raw = data.get("hint")
    hint = raw if isinstance(raw, str) and raw else None
    phrase = REASONS.get(str(data.get("reason", "")))
    return phrase(message, hint, data, command) if phrase else (message, hint)


_FINDINGS: dict[str, Callable[[str], str]] = {
    "image.default": lambda hint: hint.replace(
        "scripts/images.sh (no registry needed)",
        "'make setup' (scripts/images.sh, no registry needed)",
    ),
    "isolation.runtime": lambda hint: hint.replace(
        "allowReducedIsolation or [isolation] allow_reduced = true", REDUCED
    ).replace("a run then uses", "'cai run' then uses"),
    "ssh.ports": lambda _hint: FREE_PORTS,
}


def phrase_finding(check: Mapping[str, Any]) -> str | None:
    """A doctor check's hint in `cai` words."""
    hint = check.get("hint")
    if not isinstance(hint, str) or not hint:
        return None
    fix = _FINDINGS.get(str(check.get("id", "")))
    return fix(hint) if fix else hint

"""Compare the distributions this interpreter sees with requirements.lock.

A .venv that no longer matches the lock (the lock changed since it was installed, or a
package was installed or upgraded by hand) runs something other than what every user gets,
so scripts/venv.sh runs this after each install and tests/unit/project/test_dependency_lock.py on
every test run. Standard library only: it judges the environment, it must not depend on it.

Usage: python scripts/check_lock.py [LOCK]   (exit 1 and one line per package on drift)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"
UNLOCKED = frozenset({"pip", "containai-rpc"})
"""Installed but never locked: the venv's own installer and this project (editable)."""
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def normalize(name: str) -> str:
    """PEP 503: case-insensitive, runs of `-`, `_` and `.` are one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(text: str) -> dict[str, str]:
    """Normalized name → version of each `name==version` line of a pip-compile lock."""
    return {normalize(m[1]): m[2] for line in text.splitlines() if (m := _PIN.match(line))}


def installed() -> dict[str, str]:
    """Normalized name → version of each distribution; the first on sys.path wins, as on import."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(normalize(name), dist.version)
    return found


def drift(pins: Mapping[str, str], present: Mapping[str, str]) -> list[str]:
    """One line per package whose installed version is not its locked one, sorted by name."""
    problems = []
    for name in sorted((pins.keys() | present.keys()) - UNLOCKED):
        have, want = present.get(name), pins.get(name)
        if have == want:
            continue
        if have is None:
            problems.append(f"{name}: not installed, locked {want}")
        elif want is None:
            problems.append(f"{name}: installed {have}, not in the lock")
        else:
            problems.append(f"{name}: installed {have}, locked {want}")
    return problems


def report(problems: list[str], lock: Path = LOCK) -> str:
    """The message for a non-empty `drift`: what differs and how to fix it."""
    lines = "\n".join(f"  {p}" for p in problems)
    return (
        f"installed packages differ from {lock.name} ({sys.prefix}):\n{lines}\n"
        "Reinstall from the lock with `make setup` (`rm -rf .venv` first if it was changed by "
        "hand); after changing dependencies in pyproject.toml, run `make lock` first."
    )


def main(argv: list[str]) -> int:
    lock = Path(argv[0]) if argv else LOCK
    pins = locked(lock.read_text(encoding="utf-8"))
    if not pins:
        print(f"check_lock: no `name==version` line in {lock}", file=sys.stderr)
        return 1
    problems = drift(pins, installed())
    if problems:
        print(report(problems, lock), file=sys.stderr)
        return 1
    print(f"check_lock: {len(pins)} packages as locked in {lock.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

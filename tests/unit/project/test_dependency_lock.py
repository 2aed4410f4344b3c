"""The environment under test is the locked one (scripts/check_lock.py, also run by venv.sh).

A stale .venv (the lock changed, a package was upgraded by hand) fails here with the
package, its installed version and its locked version, instead of testing other code.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "check_lock.py"


@pytest.fixture(scope="module")
def check_lock() -> ModuleType:
    """scripts/ is not a package: load the script by path, as venv.sh runs it."""
    spec = importlib.util.spec_from_file_location("check_lock", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_installed_distributions_match_the_lock(check_lock: ModuleType) -> None:
    pins = check_lock.locked(check_lock.LOCK.read_text(encoding="utf-8"))
    assert {"tomlkit", "pytest", "setuptools"} <= pins.keys()  # runtime, test extra, build
    problems = check_lock.drift(pins, check_lock.installed())
    assert not problems, check_lock.report(problems)


def test_a_changed_pin_is_reported_with_both_versions(check_lock: ModuleType) -> None:
    text = check_lock.LOCK.read_text(encoding="utf-8")
    present = check_lock.locked(text)
    version = present["tomlkit"]
    changed = re.sub(r"^tomlkit==\S+", "tomlkit==0.0.1", text, count=1, flags=re.M)
    problems = check_lock.drift(check_lock.locked(changed), present)
    assert problems == [f"tomlkit: installed {version}, locked 0.0.1"]
    assert "Reinstall from the lock with `make setup`" in check_lock.report(problems)


def test_missing_extra_and_unlocked_packages(check_lock: ModuleType) -> None:
    pins = check_lock.locked("docker==7.2.0 \\\n    --hash=sha256:00\nattrs==26.1.0\n")
    present = {"attrs": "26.1.0", "paramiko": "5.1.0", "pip": "26.0", "containai-rpc": "0.1.0"}
    assert check_lock.drift(pins, present) == [
        "docker: not installed, locked 7.2.0",
        "paramiko: installed 5.1.0, not in the lock",
    ]


@pytest.mark.parametrize("name", ["Typing_Extensions", "typing.extensions", "TYPING--extensions"])
def test_names_are_compared_after_pep_503_normalisation(check_lock: ModuleType, name: str) -> None:
    pins = check_lock.locked(f"{name}==4.16.0 \\\n    --hash=sha256:00\n")
    assert check_lock.drift(pins, {"typing-extensions": "4.16.0"}) == []

"""Waiting for something the kernel or Docker sends no event for: poll with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def poll(check: Callable[[], Any], what: str, timeout_s: float = 20.0) -> Any:
    """check() until it returns something truthy, or fail after the deadline."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)  # polling interval; the deadline bounds the wait
    pytest.fail(f"timed out waiting for {what}; last: {last!r}")

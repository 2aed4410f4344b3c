"""Start verification: the container really runs (and, later, systemd and SSH answer)."""

from __future__ import annotations

import time

from containai_rpc.engine import ContainerInfo, Engine
from containai_rpc.errors import DomainError
from containai_rpc.service.hooks import Hooks

RUNNING_DEADLINE_S = 15.0


def wait_running(engine: Engine, container_id: str, hooks: Hooks) -> ContainerInfo:
    """Poll the state with a deadline (the original: 30 x 0.5 s)."""
    deadline = time.monotonic() + RUNNING_DEADLINE_S
    delay = 0.02
    while True:
        info = engine.require(container_id)
        if info.running:
            return info
        if info.state in ("exited", "dead"):
            raise DomainError(
                "startFailed",
                f"Container '{info.name}' exited right after start (state: {info.state})",
                hint=f"See 'docker logs {info.name}'.",
            )
        if time.monotonic() > deadline:
            raise DomainError(
                "startTimeout",
                f"Container '{info.name}' did not reach running within "
                f"{RUNNING_DEADLINE_S:.0f} s (state: {info.state})",
                hint=f"See 'docker logs {info.name}'.",
            )
        time.sleep(delay)  # bounded poll of a state Docker has no event for here
        delay = min(delay * 2, 0.5)

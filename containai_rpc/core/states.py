"""Docker container states and what each operation makes of them: the one place for both.

Docker reports `created`, `running`, `paused`, `restarting`, `removing`, `exited` or
`dead`. The user-facing vocabulary calls `exited` "stopped" and adds nothing else.
"""

from __future__ import annotations

from typing import Literal

GuideStatus = Literal["running", "stopped", "created", "paused", "restarting", "dead"]

ACTIVE = frozenset({"running", "paused", "restarting"})
"""Running-like: a process is (or is about to be) running; gc never takes these, stop
stops them, a snapshot shows no `finishedAt` for them."""

STOPPED = frozenset({"exited", "created", "dead"})
"""Nothing to stop: `stop` answers `alreadyStopped`."""

REUSABLE = frozenset({"running", "exited", "created"})
"""States `run` attaches to or starts as they are; any other needs `fresh`."""

IDLE_SINCE = {"exited": "finished_at", "created": "created_at"}
"""States gc may judge, and the `ContainerInfo` timestamp their idle time counts from."""

_GUIDE: dict[str, GuideStatus] = {
    "running": "running",
    "exited": "stopped",
    "created": "created",
    "paused": "paused",
    "restarting": "restarting",
    "dead": "dead",
    "removing": "stopped",
}


def guide_status(docker_state: str) -> GuideStatus:
    """The user-facing status of a Docker state (an unknown state counts as `dead`)."""
    return _GUIDE.get(docker_state, "dead")


def is_active(docker_state: str) -> bool:
    return docker_state in ACTIVE

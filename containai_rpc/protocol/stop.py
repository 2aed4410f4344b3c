"""`containai/stop`: stop or remove one container or all managed ones."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from containai_rpc.protocol.base import WireModel
from containai_rpc.protocol.models import TargetParams, WorkDoneToken


class StopParams(TargetParams):
    all: bool = Field(default=False, description="Every managed container (not with a target).")
    remove: bool = Field(default=False, description="Remove instead of stop; never a volume.")
    force: bool = Field(
        default=False,
        description="Do not ask about active sessions; stop even when `exportTo` fails.",
    )
    export_to: str | None = Field(
        default=None,
        description="Export the data volume to this .tgz file (an existing folder: a file "
        "named after the container and the time) before stopping; not with `all`.",
        min_length=1,
        max_length=4096,
    )
    work_done_token: int | str | None = WorkDoneToken


StopAction = Literal[
    "stopped", "removed", "alreadyStopped", "notFound", "declined", "failed", "notManaged"
]
"""`notManaged` (only from `all`): a container marked managed but missing a required label
(`containai.workspace`, `containai.data-volume`) is foreign and left alone."""


class StopOutcome(WireModel):
    container_name: str = Field(description="`*` for a context that could not be listed.")
    context: str
    action: StopAction
    sessions: Literal["yes", "no", "unknown"] | None = Field(
        default=None, description="Active sessions found before stopping a running container."
    )
    message: str | None = Field(
        default=None,
        description="Why, for `notFound`, `failed` and `notManaged`; a failed forced export.",
    )
    export_path: str | None = Field(default=None, description="The archive `exportTo` wrote.")


class StopResult(WireModel):
    results: list[StopOutcome]

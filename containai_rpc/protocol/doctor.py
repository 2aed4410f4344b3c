"""Wire models of `containai/doctor` (part of the protocol's single source).

Doctor never fails for a broken engine or config: every problem is a check result, and
`recommendedAction` names the one thing to do first.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from containai_rpc.protocol.base import Params, WireModel
from containai_rpc.protocol.models import ContextName, Isolation

CheckStatus = Literal["ok", "warn", "error", "skip"]
RecommendedAction = Literal[
    "ready", "fixConfig", "startDocker", "enableIsolation", "buildImage", "setupSsh"
]


class DoctorParams(Params):
    """`containai/doctor`: check the selected context, or `context` instead."""

    context: str | None = ContextName


class Check(WireModel):
    """One finding. `id` is `<section>.<name>` (sections: config, docker, isolation, image,
    ssh); `detail` says what was found, `hint` what to do about a warn or error."""

    id: str
    title: str
    status: CheckStatus
    detail: str
    hint: str | None = None


class DoctorResult(WireModel):
    ok: bool = Field(description="No check is an error (warnings allowed).")
    recommended_action: RecommendedAction = Field(
        description="What to do first: `ready` when nothing needs doing; otherwise the "
        "action of the first failing check in the order of the values here."
    )
    isolation: Isolation | None = Field(
        default=None,
        description="What a new container would get on the selected context; absent when "
        "it would be refused (no Sysbox, no opt-in) or the engine does not answer.",
    )
    checks: list[Check]

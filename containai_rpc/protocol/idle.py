"""Idle auto-stop on the wire: the warning before a stop and `postponeIdleStop`'s answer.

The snapshot fields (`idleStop`, `idleSince`, `autoStopAt`), `RunParams.idleStop` and
`ContainerChanged.reason` live with their models in models.py.
"""

from __future__ import annotations

from pydantic import Field

from containai_rpc.protocol.base import WireModel


class IdleWarning(WireModel):
    """`containai/idleWarning`: a container will stop itself soon, unused."""

    container_name: str
    context: str
    auto_stop_at: str = Field(description="RFC 3339 UTC.")


class PostponeIdleStopResult(WireModel):
    container_name: str
    context: str
    idle_stop: str | None = Field(
        default=None, description="Its idle period; `off` or absent: nothing to postpone."
    )
    auto_stop_at: str | None = Field(
        default=None, description="RFC 3339 UTC: the new auto-stop time, if idle stop is on."
    )

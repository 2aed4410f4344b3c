"""A doctor check and the action that fixes it; the actions in priority order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from containai_rpc.protocol.doctor import Check, CheckStatus, RecommendedAction

ACTIONS: tuple[RecommendedAction, ...] = get_args(RecommendedAction)[1:]
"""Priority of the actions, most fundamental first (the order of the wire Literal)."""


@dataclass(frozen=True)
class Finding:
    """A check plus the action that fixes it when it is an error."""

    check: Check
    action: RecommendedAction | None = None


def finding(
    id: str,
    title: str,
    status: CheckStatus,
    detail: str,
    hint: str | None = None,
    action: RecommendedAction | None = None,
) -> Finding:
    """An error must name its action, so `ok: false` never comes with `ready`."""
    assert (status == "error") == (action is not None), id
    return Finding(Check(id=id, title=title, status=status, detail=detail, hint=hint), action)

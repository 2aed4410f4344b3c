"""Domain events of the live state → `containai/*` notifications, as the registry names
them (its model is what each notification carries)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from containai_rpc.protocol.idle import IdleWarning
from containai_rpc.protocol.models import ContainerChanged, EngineStatus
from containai_rpc.protocol.registry import NOTIFICATIONS

NAMES: dict[type[Any], str] = {n.params: n.name for n in NOTIFICATIONS}
CONTAINER_CHANGED = NAMES[ContainerChanged]
ENGINE_STATUS = NAMES[EngineStatus]

Notify = Callable[[str, dict[str, Any]], None]


def notifier(notify: Notify) -> Callable[[ContainerChanged | EngineStatus | IdleWarning], None]:
    """The service's `emit` callback: each event as the notification its type maps to."""

    def emit(event: ContainerChanged | EngineStatus | IdleWarning) -> None:
        notify(NAMES[type(event)], event.wire())

    return emit

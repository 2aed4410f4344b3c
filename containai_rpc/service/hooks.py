"""How the service talks back to whoever drives it (server, CLI, tests) without pygls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from containai_rpc.errors import DomainError


def _never() -> bool:
    return False


def _ignore(_message: str) -> None:
    return None


@dataclass
class Hooks:
    """Progress, confirmation and cancellation callables for one operation.

    `confirm(message, actions)` returns the chosen action, or None when the user
    dismissed the question. When no `confirm` is given, a question that needs an
    answer fails with `confirmationRequired` instead, as the protocol defines.
    """

    progress: Callable[[str], None] = field(default=_ignore)
    confirm: Callable[[str, list[str]], str | None] | None = None
    cancelled: Callable[[], bool] = field(default=_never)

    def ask(self, message: str, yes: str, no: str = "Cancel") -> bool:
        if self.confirm is None:
            raise DomainError(
                "confirmationRequired",
                message,
                hint="Repeat the request with force: true, or use a client that can confirm.",
            )
        return self.confirm(message, [yes, no]) == yes

    def checkpoint(self) -> None:
        """A safe point: stop here if the client cancelled."""
        if self.cancelled():
            raise DomainError("cancelled", "The operation was cancelled; nothing more was changed.")

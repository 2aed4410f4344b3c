"""Domain errors: one exception type with a stable machine-readable reason.

Every layer below the server raises `DomainError`; the server maps it to JSON-RPC
`-32803 RequestFailed` with `data.reason`, the CLI to a one-line message and exit 1.
The reasons are a closed set, `containai_rpc.protocol.reasons.Reason`.
"""

from __future__ import annotations

from typing import Any

from containai_rpc.protocol.reasons import Reason

__all__ = ["DomainError", "Reason"]


class DomainError(Exception):
    """A failure the user can act on (not a bug): `reason` is part of the protocol."""

    def __init__(
        self, reason: Reason, message: str, *, hint: str | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message
        self.hint = hint
        self.details = details

    def to_data(self) -> dict[str, Any]:
        """The JSON-RPC `error.data` object."""
        data: dict[str, Any] = {"reason": self.reason}
        if self.hint:
            data["hint"] = self.hint
        data.update({k: v for k, v in self.details.items() if v is not None})
        return data


def conflicting(first: str, second: str, *, hint: str | None = None) -> DomainError:
    """`conflictingOptions` for two params that exclude each other, named as on the wire
    (`options` lists them, so each client can say it in its own words)."""
    return DomainError(
        "conflictingOptions",
        f"{first} and {second} are mutually exclusive",
        hint=hint,
        options=[first, second],
    )

"""A clock a test can set: the real time until `set(moment)`, then that moment."""

from __future__ import annotations

from datetime import UTC, datetime


class SettableClock:
    """Pass it as `Service(clock=...)`; `moment` None means the real time."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def set(self, moment: datetime) -> None:
        self.moment = moment.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.moment or datetime.now(UTC)

"""The one clock. Everything that needs "now" is handed a Clock; nothing calls datetime.now().

All instants are aware UTC. Naive datetimes are refused at the boundary so that a local
time can never be mistaken for UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return `value` converted to UTC; refuse naive datetimes (they have no meaning here)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to: tests, `kadenz simulate` and the demo."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "start")

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        instant = require_aware(instant, "instant")
        if instant < self._now:
            raise ValueError("a VirtualClock never moves backwards")
        self._now = instant

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("a VirtualClock never moves backwards")
        self._now += delta
        return self._now

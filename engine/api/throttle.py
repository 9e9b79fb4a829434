"""Brute-force brakes: failed login, bearer-token and unsubscribe attempts per client.

Only failures count, so people who use the right token never notice. A client (by IP) that
fails `limit` times within `window` is refused — even with the right token — until the
oldest failure leaves the window; the answer is 429 with Retry-After. Counts live in the
process (the API runs as one uvicorn process per deployment; several processes each allow
`limit`, which still turns ~430 guesses a second into a handful a minute). Memory is bounded:
at most `max_clients` clients are tracked, the quietest forgotten first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import Request


@dataclass
class Throttle:
    limit: int
    window: timedelta = timedelta(minutes=1)
    max_clients: int = 10_000
    _failures: OrderedDict[str, deque[datetime]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, client: str, now: datetime) -> int | None:
        """Seconds until this client may try again, or None when it may try now."""
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.limit:
                return None
            return max(1, int((times[0] + self.window - now).total_seconds()) + 1)

    def failed(self, client: str, now: datetime) -> None:
        with self._lock:
            times = self._recent(client, now)
            times.append(now)
            self._failures[client] = times
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def _recent(self, client: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(client, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


@dataclass
class Throttles:
    """One per kind of secret a client might guess."""

    login: Throttle = field(default_factory=lambda: Throttle(limit=10))
    bearer: Throttle = field(default_factory=lambda: Throttle(limit=10))
    unsubscribe: Throttle = field(default_factory=lambda: Throttle(limit=30))


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"

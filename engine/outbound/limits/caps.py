"""Sending caps: the rate-limiter port and its embedded (in-process) implementation.

The sender asks `RateLimiter.acquire(mailbox_id, domain, at, limits)` right before it moves
a message to `sending` — for a whole claim at once with `acquire_many`, which decides in
order exactly as one `acquire` after another would (on Redis: in one round trip instead of
one per message). An allowed decision *records* that send; a refused one says when
capacity frees (`retry_at`) and why. Limits per mailbox:

- `daily`   sends per rolling 24 hours (after the warm-up ramp, see `effective_daily_cap`)
- `hourly`  sends per rolling hour
- `min_gap_seconds` between two sends, stretched by a deterministic jitter of 0–50 %
- `per_domain_daily` sends to one recipient domain per rolling 24 hours

`MemoryRateLimiter` is correct for one process (the embedded `kadenz run`); it is seeded
from the database at start (`seed_from_database`) so a restart does not forget today's sends.
A cluster uses the Redis implementation, which must pass tests/integration/sending/caps_contract.py.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import require_aware
from engine.core.states import MessageState
from engine.store.models import Mailbox, OutboundMessage

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
COUNTED_STATES = (
    MessageState.SENT,
    MessageState.SENDING,
    MessageState.AMBIGUOUS,
    MessageState.BOUNCED,
)


@dataclass(frozen=True, slots=True)
class Limits:
    label: str  # the mailbox's name, for reasons
    daily: int
    hourly: int | None = None
    min_gap_seconds: int = 0
    per_domain_daily: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Ask:
    """One `acquire` of a batch: a send from `mailbox_id` to `domain` at `at`."""

    mailbox_id: int
    domain: str
    at: datetime
    limits: Limits


class RateLimiter(Protocol):
    def acquire(self, mailbox_id: int, domain: str, at: datetime, limits: Limits) -> Decision:
        """Allow (and record) one send at `at`, or say when capacity frees and why."""
        ...

    def acquire_many(self, asks: Sequence[Ask]) -> list[Decision]:
        """`acquire` for each ask, in order, each seeing the sends the earlier ones recorded."""
        ...


def effective_daily_cap(mailbox: Mailbox, at: datetime) -> int:
    """The daily cap on `at`'s date: a warm-up ramp {start, from, step} grows it linearly.

    {"start": "2026-03-01", "from": 10, "step": 5} allows 10 on Mar 1, 15 on Mar 2, … up to
    `daily_cap`. Before `start` the ramp's first value applies.
    """
    cap = mailbox.daily_cap
    ramp = mailbox.warmup or {}
    if not ramp.get("start"):
        return cap
    start = date.fromisoformat(str(ramp["start"]))
    days = max(0, (at.astimezone(UTC).date() - start).days)
    ramped = int(ramp.get("from", 10)) + days * int(ramp.get("step", 5))
    return max(0, min(cap, ramped))


def limits_for(mailbox: Mailbox, at: datetime) -> Limits:
    return Limits(
        label=mailbox.name,
        daily=effective_daily_cap(mailbox, at),
        hourly=mailbox.hourly_cap,
        min_gap_seconds=mailbox.min_gap_seconds or 0,
        per_domain_daily=mailbox.per_domain_daily_cap,
    )


def gap_with_jitter(mailbox_id: int, last: datetime, min_gap_seconds: int) -> timedelta:
    """min_gap stretched by 0–50 %, derived from the last send so it is reproducible."""
    if min_gap_seconds <= 0:
        return timedelta(0)
    digest = hashlib.sha256(f"{mailbox_id}:{last.isoformat()}".encode()).digest()
    factor = 1.0 + (digest[0] / 255.0) * 0.5
    return timedelta(seconds=min_gap_seconds * factor)


def _fmt(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class MemoryRateLimiter:
    """Sliding-window counters in this process: exact, but only for one sender process."""

    def __init__(self) -> None:
        self._sends: dict[int, deque[datetime]] = {}
        self._domains: dict[tuple[int, str], deque[datetime]] = {}

    def record(self, mailbox_id: int, domain: str, at: datetime) -> None:
        at = require_aware(at)
        _insert(self._sends.setdefault(mailbox_id, deque()), at)
        _insert(self._domains.setdefault((mailbox_id, domain.lower()), deque()), at)

    def acquire(self, mailbox_id: int, domain: str, at: datetime, limits: Limits) -> Decision:
        at = require_aware(at)
        sends = self._sends.setdefault(mailbox_id, deque())
        per_domain = self._domains.setdefault((mailbox_id, domain.lower()), deque())
        _expire(sends, at - DAY)
        _expire(per_domain, at - DAY)
        refusals: list[tuple[datetime, str]] = []
        # The deques are sorted: count by bisection instead of copying them (a long send
        # round acquires thousands of times against thousands of recorded sends).
        n = _upto(sends, at)  # sends[:n] are the ones at or before `at`
        if n >= limits.daily:
            free = sends[n - limits.daily] + DAY if limits.daily > 0 else at + DAY
            refusals.append((free, f"daily cap {limits.daily} reached for mailbox {limits.label}"))
        if limits.hourly is not None:
            in_hour = n - bisect.bisect_right(sends, at - HOUR, 0, n)
            if in_hour >= limits.hourly:
                free = sends[n - limits.hourly] + HOUR if limits.hourly > 0 else at + HOUR
                refusals.append(
                    (free, f"hourly cap {limits.hourly} reached for mailbox {limits.label}")
                )
        if limits.per_domain_daily is not None:
            d = _upto(per_domain, at)
            if d >= limits.per_domain_daily:
                cap = limits.per_domain_daily
                free = per_domain[d - cap] + DAY if cap > 0 else at + DAY
                refusals.append(
                    (
                        free,
                        f"per-domain cap {cap}/day reached for {domain} on mailbox {limits.label}",
                    )
                )
        if n and limits.min_gap_seconds > 0:
            last = sends[n - 1]
            free = last + gap_with_jitter(mailbox_id, last, limits.min_gap_seconds)
            if free > at:
                refusals.append((free, f"minimum gap {limits.min_gap_seconds}s between sends"))
        if refusals:
            retry_at, reason = max(refusals)
            return Decision(False, retry_at, f"{reason}; next capacity {_fmt(retry_at)}")
        self.record(mailbox_id, domain, at)
        return Decision(True)

    def acquire_many(self, asks: Sequence[Ask]) -> list[Decision]:
        return [self.acquire(a.mailbox_id, a.domain, a.at, a.limits) for a in asks]


def _upto(times: deque[datetime], at: datetime) -> int:
    """How many of the sorted `times` are at or before `at`."""
    if not times or times[-1] <= at:
        return len(times)
    return bisect.bisect_right(times, at)


def _insert(times: deque[datetime], at: datetime) -> None:
    if not times or times[-1] <= at:
        times.append(at)
        return
    times.insert(bisect.bisect_right(times, at), at)


def _expire(times: deque[datetime], before: datetime) -> None:
    while times and times[0] <= before:
        times.popleft()


def seed_from_database(limiter: MemoryRateLimiter, session: Session, at: datetime) -> int:
    """Teach the limiter the send attempts of the last 24 h (after a restart). Returns how many.

    Sent messages count at `sent_at`; messages that reached the server without a verdict
    (`sending`, `ambiguous`) or were refused at RCPT (`bounced`) count at their last update.
    """
    when = func.coalesce(OutboundMessage.sent_at, OutboundMessage.updated_at)
    rows = session.execute(
        select(OutboundMessage.mailbox_id, OutboundMessage.to_address, when)
        .where(OutboundMessage.state.in_(COUNTED_STATES), when > at - DAY)
        .order_by(when)
    ).all()
    for mailbox_id, to_address, instant in rows:
        limiter.record(mailbox_id, to_address.rsplit("@", 1)[-1], instant)
    return len(rows)

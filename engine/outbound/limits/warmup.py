"""The warm-up ramp of a mailbox, day by day: what `outbox`, `mailbox list` and the
dashboard show. The arithmetic is `caps.effective_daily_cap` (the one the sender applies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.outbound.limits.caps import effective_daily_cap
from engine.store.models import Mailbox


@dataclass(frozen=True)
class Ramp:
    start: date
    first: int  # sends allowed on the start day
    step: int  # more each day
    full: int  # the mailbox's daily cap: where the ramp ends
    day: int  # 1 on the start day (0 before it)
    today: int  # the cap that applies today
    full_on: date  # the first day at the full cap

    def describe(self) -> str:
        if self.today >= self.full:
            return f"warm-up done ({self.first}+{self.step}/day from {self.start}): {self.full}/day"
        return (
            f"warm-up day {max(self.day, 0)}: {self.today}/day today, +{self.step} a day, "
            f"full {self.full}/day on {self.full_on}"
        )

    def schedule(self, at: datetime, days: int = 7) -> list[tuple[date, int]]:
        """(day, cap) for `days` days from `at`'s UTC date."""
        today = at.astimezone(UTC).date()
        return [
            (today + timedelta(days=i), _cap(self, today + timedelta(days=i))) for i in range(days)
        ]


def _cap(ramp: Ramp, day: date) -> int:
    elapsed = max(0, (day - ramp.start).days)
    return max(0, min(ramp.full, ramp.first + elapsed * ramp.step))


def ramp_of(mailbox: Mailbox, at: datetime) -> Ramp | None:
    settings = mailbox.warmup or {}
    if not settings.get("start"):
        return None
    start = date.fromisoformat(str(settings["start"]))
    first, step = int(settings.get("from", 10)), int(settings.get("step", 5))
    today = at.astimezone(UTC).date()
    needed = max(0, -(-(mailbox.daily_cap - first) // step)) if step > 0 else 0
    return Ramp(
        start=start,
        first=first,
        step=step,
        full=mailbox.daily_cap,
        day=(today - start).days + 1,
        today=effective_daily_cap(mailbox, at),
        full_on=start + timedelta(days=needed),
    )


def cap_today(mailbox: Mailbox, at: datetime) -> int:
    return effective_daily_cap(mailbox, at)


def caps_line(mailbox: Mailbox, at: datetime) -> str:
    """One line: every cap of the mailbox as it applies today."""
    parts = []
    ramp = ramp_of(mailbox, at)
    parts.append(ramp.describe() if ramp else f"{mailbox.daily_cap}/day")
    if mailbox.hourly_cap:
        parts.append(f"{mailbox.hourly_cap}/hour")
    if mailbox.per_domain_daily_cap:
        parts.append(f"{mailbox.per_domain_daily_cap}/day per recipient domain")
    if mailbox.min_gap_seconds:
        parts.append(f"≥ {mailbox.min_gap_seconds}s between sends")
    return ", ".join(parts)


def capacity_lines(session: Session, at: datetime, name: str | None = None) -> list[str]:
    """Per mailbox: today's caps, and the next days of a warm-up ramp still climbing."""
    stmt = select(Mailbox).order_by(Mailbox.name)
    if name is not None:
        stmt = stmt.where(Mailbox.name == name)
    out: list[str] = []
    for box in session.scalars(stmt):
        out.append(f"{box.name}: {caps_line(box, at)}")
        ramp = ramp_of(box, at)
        if ramp is not None and ramp.today < ramp.full:
            days = ", ".join(f"{d:%a %m-%d} {cap}" for d, cap in ramp.schedule(at))
            out.append(f"  ramp: {days}")
    return out

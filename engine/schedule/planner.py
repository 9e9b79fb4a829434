"""When may the next step go out: waits, send windows, holidays, spreading, explanations.

All instants in and out are aware UTC; the window is read in the prospect's local time
(`tz`). The search walks local days, never minutes, so it costs O(days scanned).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from engine.clock import require_aware
from engine.errors import KadenzError
from engine.schedule.calendar import DAY_WORDS, BusinessCalendar
from engine.schedule.localtime import (
    Interval,
    day_intervals,
    local_date,
    next_cron_day,
    wall_to_utc,
)
from engine.schedule.types import DAY_NAMES, CronWindow, Duration, DurationUnit, Window

MAX_SCAN_DAYS = 400  # a window closed for this long is a configuration mistake
_MAX_DAY_REASONS = 6  # beyond this, skipped days are summarised in one reason
_ONE_DAY = timedelta(days=1)


class WindowNeverOpens(KadenzError, ValueError):
    """The send window has no allowed instant within MAX_SCAN_DAYS."""


@dataclass(frozen=True)
class SendPolicy:
    window: Window
    calendar: BusinessCalendar
    # No sends on the calendar's holidays. Weekdays are decided by the window alone
    # (a "Mon-Sat" window sends on Saturdays even though the calendar's workdays are Mon-Fri).
    skip_holidays: bool = True


@dataclass(frozen=True)
class Slot:
    at: datetime  # aware UTC
    local: datetime  # aware, in `timezone`
    timezone: str
    reasons: tuple[str, ...]  # why this instant and not earlier, last one names the window


def add_wait(start: datetime, wait: Duration, tz: ZoneInfo, calendar: BusinessCalendar) -> datetime:
    """`start` + `wait`: minutes/hours are elapsed time; days keep the local wall time.

    Business days count the days after `start`'s local date that are workdays and not
    holidays, and land on the same wall time (a wall time in a DST gap moves to the end of
    the gap, see localtime.py).
    """
    start = require_aware(start, "start")
    if wait.unit is DurationUnit.MINUTES:
        return start + timedelta(minutes=wait.amount)
    if wait.unit is DurationUnit.HOURS:
        return start + timedelta(hours=wait.amount)
    if wait.amount == 0:
        return start
    local = start.astimezone(tz)
    day = local.date()
    if wait.unit is DurationUnit.DAYS:
        day += timedelta(days=wait.amount)
    else:
        counted, limit = 0, day + timedelta(days=wait.amount * 7 + MAX_SCAN_DAYS)
        while counted < wait.amount:
            day += _ONE_DAY
            if day > limit:
                raise WindowNeverOpens(
                    f"{wait} after {start.isoformat()} never ends: the calendar has almost "
                    "no business days (check its workdays and holidays)"
                )
            counted += calendar.is_business_day(day)
    # Never earlier than start, even when the wall time was the second pass of a repeated
    # hour and the target is read as the first pass.
    return max(wall_to_utc(day, local.time().replace(tzinfo=None), tz), start)


def is_allowed(instant: datetime, policy: SendPolicy, tz: ZoneInfo) -> bool:
    """May a message go out at `instant`? (inside the local window, not on a holiday)"""
    instant = require_aware(instant, "instant")
    day = local_date(instant, tz)
    if policy.skip_holidays and policy.calendar.holiday_name(day) is not None:
        return False
    return any(a <= instant < b for a, b in day_intervals(policy.window, day, tz))


def next_slot(
    earliest: datetime, policy: SendPolicy, tz: ZoneInfo, *, spread_key: str | None = None
) -> Slot:
    """The first allowed instant >= `earliest`, or with `spread_key` a deterministic spot.

    Spreading picks a pseudo-random instant (from a hash of `spread_key`) within the allowed
    time of the first allowed day, after `earliest`, so a batch whose waits all end at
    09:00 does not leave at 09:00:00. Raises WindowNeverOpens after MAX_SCAN_DAYS.
    """
    earliest = require_aware(earliest, "earliest")
    window, calendar = policy.window, policy.calendar
    day = local_date(earliest, tz)
    last_day = day + timedelta(days=MAX_SCAN_DAYS)
    skipped: list[str] = []
    while day <= last_day:
        if isinstance(window, CronWindow):
            match = next_cron_day(window.expression, day)
            if match is None or match > last_day:
                break
            if match > day:
                skipped.append(_no_cron_match(day, match - _ONE_DAY))
                day = match
        holiday = calendar.describe_holiday(day) if policy.skip_holidays else None
        if holiday is not None:
            skipped.append(holiday)
        else:
            parts = _clip(day_intervals(window, day, tz), earliest)
            if parts:
                at = _spread(parts, spread_key) if spread_key is not None else parts[0][0]
                shift = _clock_change(day, tz)
                notes = [*_summarise(skipped), *([shift] if shift else [])]
                reasons = (*notes, describe_window(window))
                if spread_key is not None:
                    reasons = (*reasons, f"spread over the open time of {day.isoformat()}")
                local = at.astimezone(tz)
                return Slot(at, local, tz.key or str(tz), reasons)
            skipped.append(_closed(window, day, earliest, tz))
        day += _ONE_DAY
    raise WindowNeverOpens(
        f"{describe_window(window)} never opens within {MAX_SCAN_DAYS} days after "
        f"{earliest.isoformat()} in {tz.key} (holidays: {calendar.region or 'none'}); "
        "widen the window or check the holidays"
    )


def plan_after_wait(
    previous: datetime,
    wait: Duration,
    policy: SendPolicy,
    tz: ZoneInfo,
    *,
    spread_key: str | None = None,
) -> Slot:
    """`next_slot(add_wait(previous, wait))`, with the wait as the first reason."""
    ready = add_wait(previous, wait, tz, policy.calendar)
    slot = next_slot(ready, policy, tz, spread_key=spread_key)
    local = ready.astimezone(tz)
    wait_reason = f"wait until {local:%Y-%m-%d %H:%M} ({wait})"
    return Slot(slot.at, slot.local, slot.timezone, (wait_reason, *slot.reasons))


def explain(slot: Slot) -> str:
    """One line: "2026-04-07 09:00 Europe/Berlin (Tue): 2026-04-06 is Easter Monday ..." """
    head = (
        f"{slot.local:%Y-%m-%d %H:%M} {slot.timezone} ({DAY_NAMES[slot.local.weekday()].title()})"
    )
    return f"{head}: {'; '.join(slot.reasons)}" if slot.reasons else head


@lru_cache(maxsize=1024)
def describe_window(window: Window) -> str:
    """ "Mon-Fri 09:00-10:00" (consecutive days with equal ranges grouped) or "cron '...'"."""
    if isinstance(window, CronWindow):
        return f"cron '{window.expression}'"
    groups: list[tuple[int, int, str]] = []
    for index, ranges in enumerate(window.days):
        if not ranges:
            continue
        text = ",".join(str(r) for r in ranges)
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], index, text)
        else:
            groups.append((index, index, text))
    if not groups:
        return "closed every day"
    parts = []
    for first, last, text in groups:
        days = DAY_NAMES[first].title()
        if last > first:
            days += f"{'-' if last > first + 1 else ','}{DAY_NAMES[last].title()}"
        parts.append(f"{days} {text}")
    return "window " + "; ".join(parts)


def _clip(parts: tuple[Interval, ...], earliest: datetime) -> list[Interval]:
    return [(max(a, earliest), b) for a, b in parts if b > earliest]


def _spread(parts: list[Interval], key: str) -> datetime:
    digest = hashlib.sha256(key.encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    total = sum(((b - a) for a, b in parts), timedelta())
    offset = min(total * fraction, total - timedelta(microseconds=1))
    for a, b in parts:
        if offset < b - a:
            at = a + offset
            # Whole seconds read better in logs and explanations; never before the start.
            return max(at.replace(microsecond=0), a)
        offset -= b - a
    return parts[-1][0]  # unreachable: offset < total


def _closed(window: Window, day: date, earliest: datetime, tz: ZoneInfo) -> str:
    if day_intervals(window, day, tz):  # open that day, but only before `earliest`
        return f"{day.isoformat()}: window already over at {earliest.astimezone(tz):%H:%M}"
    if isinstance(window, CronWindow):
        return f"{day.isoformat()}: no cron minute exists that day (DST)"
    if window.days[day.weekday()]:
        return f"{day.isoformat()}: the window lies in the DST gap"
    return f"{day.isoformat()} is a {DAY_WORDS[day.weekday()]}"


@lru_cache(maxsize=4096)
def _clock_change(day: date, tz: ZoneInfo) -> str | None:
    """ "2026-03-29: clocks go forward 1:00 (DST)" when the UTC offset changes that day."""
    start = wall_to_utc(day, time(0), tz)
    end = wall_to_utc(day + _ONE_DAY, time(0), tz) - timedelta(microseconds=1)
    before, after = start.astimezone(tz).utcoffset(), end.astimezone(tz).utcoffset()
    if before is None or after is None or before == after:
        return None
    delta = after - before
    way = "forward" if delta > timedelta(0) else "back"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"{day.isoformat()}: clocks go {way} {minutes // 60}:{minutes % 60:02d} (DST)"


def _no_cron_match(first: date, last: date) -> str:
    if first == last:
        return f"{first.isoformat()}: cron does not match"
    return f"{first.isoformat()}..{last.isoformat()}: cron does not match"


def _summarise(skipped: list[str]) -> list[str]:
    if len(skipped) <= _MAX_DAY_REASONS:
        return skipped
    more = len(skipped) - _MAX_DAY_REASONS + 1
    return [*skipped[: _MAX_DAY_REASONS - 1], f"and {more} more closed days"]


__all__ = [
    "MAX_SCAN_DAYS",
    "SendPolicy",
    "Slot",
    "WindowNeverOpens",
    "add_wait",
    "describe_window",
    "explain",
    "is_allowed",
    "next_slot",
    "plan_after_wait",
]

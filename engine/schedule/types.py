"""Value types of scheduling, shared by sequence specs and the scheduler. Pure, no I/O.

Grammars (also documented in docs/sequences.md):

  duration   "30 minutes" | "4 hours" | "2 days" | "3 business days" | "1 week"
             (singular or plural; short forms "30m", "4h", "2d", "3bd")
  window     "Mon-Fri 09:00-17:00"
             "Mon-Thu 09:00-12:00,14:00-17:00; Fri 09:00-12:00"
             days: Mon Tue Wed Thu Fri Sat Sun, ranges "Mon-Fri", lists "Mon,Wed"
             times are local wall-clock HH:MM, end exclusive; "24:00" allowed as an end
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from croniter import CroniterBadDateError, croniter


class DurationUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"  # calendar days, DST-aware: "2 days" keeps the local time of day
    BUSINESS_DAYS = "business_days"  # skips weekends and the schedule's holidays


_UNIT_WORDS: dict[str, tuple[DurationUnit, int]] = {
    "m": (DurationUnit.MINUTES, 1),
    "min": (DurationUnit.MINUTES, 1),
    "mins": (DurationUnit.MINUTES, 1),
    "minute": (DurationUnit.MINUTES, 1),
    "minutes": (DurationUnit.MINUTES, 1),
    "h": (DurationUnit.HOURS, 1),
    "hour": (DurationUnit.HOURS, 1),
    "hours": (DurationUnit.HOURS, 1),
    "d": (DurationUnit.DAYS, 1),
    "day": (DurationUnit.DAYS, 1),
    "days": (DurationUnit.DAYS, 1),
    "w": (DurationUnit.DAYS, 7),
    "week": (DurationUnit.DAYS, 7),
    "weeks": (DurationUnit.DAYS, 7),
    "bd": (DurationUnit.BUSINESS_DAYS, 1),
    "business day": (DurationUnit.BUSINESS_DAYS, 1),
    "business days": (DurationUnit.BUSINESS_DAYS, 1),
    "workday": (DurationUnit.BUSINESS_DAYS, 1),
    "workdays": (DurationUnit.BUSINESS_DAYS, 1),
}
_DURATION = re.compile(r"^\s*(\d{1,5})\s*([a-z][a-z ]*?)\s*$")


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse "3 business days"; ValueError with the accepted forms otherwise."""
        match = _DURATION.match(str(text).lower())
        unit = _UNIT_WORDS.get(" ".join(match.group(2).split())) if match else None
        if match is None or unit is None:
            raise ValueError(
                f"{text!r} is not a duration (write e.g. '30 minutes', '4 hours', "
                "'2 days', '3 business days' or '1 week')"
            )
        return cls(int(match.group(1)) * unit[1], unit[0])

    def __str__(self) -> str:
        word = self.unit.value.replace("_", " ")
        return f"{self.amount} {word[:-1] if self.amount == 1 else word}"


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """[start, end) in local wall-clock time. end may be 24:00 (stored as time.max)."""

    start: time
    end: time

    def __str__(self) -> str:
        end = "24:00" if self.end == time.max else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Allowed local send times per weekday (0 = Monday). Days absent: no sending."""

    days: tuple[tuple[TimeRange, ...], ...]  # exactly 7 entries

    @classmethod
    def parse(cls, text: str) -> WeeklyWindow:
        days: list[list[TimeRange]] = [[] for _ in range(7)]
        clauses = [c.strip() for c in str(text).split(";") if c.strip()]
        if not clauses:
            raise ValueError("the window is empty (write e.g. 'Mon-Fri 09:00-17:00')")
        for clause in clauses:
            parts = clause.split(None, 1)
            if len(parts) != 2:
                raise ValueError(
                    f"{clause!r} needs days and times (write e.g. 'Mon-Fri 09:00-17:00')"
                )
            weekday_set = _parse_days(parts[0])
            ranges = [_parse_range(r) for r in parts[1].replace(" ", "").split(",") if r]
            for day in weekday_set:
                days[day].extend(ranges)
        for ranges in days:
            ranges.sort(key=lambda r: r.start)
            for a, b in itertools.pairwise(ranges):
                if b.start < a.end:
                    raise ValueError(f"time ranges {a} and {b} overlap (merge them into one)")
        return cls(tuple(tuple(r) for r in days))

    def __str__(self) -> str:
        out = []
        for i, ranges in enumerate(self.days):
            if ranges:
                out.append(f"{DAY_NAMES[i].title()} {','.join(str(r) for r in ranges)}")
        return "; ".join(out)


@dataclass(frozen=True, slots=True)
class CronWindow:
    """Allowed send minutes are those a cron expression matches (5 fields, local time)."""

    expression: str

    @classmethod
    def parse(cls, text: str) -> CronWindow:
        expression = " ".join(str(text).split())
        if len(expression.split()) != 5 or not croniter.is_valid(expression):
            raise ValueError(
                f"{text!r} is not a 5-field cron expression (e.g. '*/10 9-16 * * mon-fri')"
            )
        try:  # 9 years cover every calendar (Feb 29 fires once in 4, or 8 around 2100)
            croniter(expression, datetime(2000, 1, 1), max_years_between_matches=9).get_next(
                datetime
            )
        except CroniterBadDateError:
            raise ValueError(
                f"{text!r} never fires (no date matches it, e.g. 31 February); "
                "check the day-of-month and month fields"
            ) from None
        return cls(expression)


Window = WeeklyWindow | CronWindow


def _parse_days(text: str) -> list[int]:
    result: list[int] = []
    for item in text.lower().split(","):
        bounds = item.split("-")
        try:
            idx = [DAY_NAMES.index(b.strip()[:3]) for b in bounds if b.strip()]
        except ValueError:
            raise ValueError(
                f"{item!r} is not a day or day range (use Mon Tue Wed Thu Fri Sat Sun, "
                "e.g. 'Mon-Fri' or 'Mon,Wed')"
            ) from None
        if len(idx) == 1:
            result.append(idx[0])
        elif len(idx) == 2 and idx[0] <= idx[1]:
            result.extend(range(idx[0], idx[1] + 1))
        else:
            raise ValueError(f"{item!r} is not a day range (write it forwards, e.g. 'Mon-Fri')")
    return result


def _parse_time(text: str, *, allow_24: bool) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if allow_24 and (hour, minute) == (24, 0):
            return time.max
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"{text!r} is not a time of day (write HH:MM, e.g. 09:00)")


def _parse_range(text: str) -> TimeRange:
    if text.count("-") != 1:
        raise ValueError(f"{text!r} is not a time range (write e.g. 09:00-17:00)")
    start_s, end_s = text.split("-")
    start, end = _parse_time(start_s, allow_24=False), _parse_time(end_s, allow_24=True)
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts (ranges cannot cross midnight)")
    return TimeRange(start, end)

"""Local wall-clock time to UTC instants, and the open intervals of a window on one day.

The two DST rules of Kadenz live here (docs/scheduling.md, "Daylight saving time"):

* A wall time that does not exist (02:30 on spring-forward night) is read as the first
  instant after the gap (03:00 new time). So a range 02:30-04:00 opens at 03:00, and a
  range or cron minute that lies entirely in the gap is closed that day.
* A wall time that happens twice (fall-back night) is read as its FIRST occurrence
  (fold=0). We chose this deliberately: it never sends later than the team expects and a
  range is always one contiguous real interval; a range 01:00-03:00 on fall-back night
  therefore lasts three real hours, and a range 02:00-02:30 is open on the first pass only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter

from engine.schedule.types import CronWindow, Window

Interval = tuple[datetime, datetime]  # [start, end) aware UTC
_ONE_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


def wall_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall time `at` on `day` in `tz` (time.max means 24:00)."""
    if at == time.max:
        return wall_to_utc(day + _ONE_DAY, time(0), tz)
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # exists; if it is ambiguous, fold=0 is its first occurrence
    # In a gap, fold=1 reads it with the old offset (before the jump) and fold=0 with the
    # new one (after it): the transition lies between the two. Find it to the second.
    before = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    after, offset_after = first, first.astimezone(tz).utcoffset()
    while after - before > _SECOND:
        middle = before + (after - before) / 2
        if middle.astimezone(tz).utcoffset() == offset_after:
            after = middle
        else:
            before = middle
    return after.replace(microsecond=0) if after.microsecond else after


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


@lru_cache(maxsize=16384)
def day_intervals(window: Window, day: date, tz: ZoneInfo) -> tuple[Interval, ...]:
    """The real intervals during which `window` is open on local `day` (sorted, disjoint)."""
    if isinstance(window, CronWindow):
        if not cron_matches_day(window.expression, day):
            return ()
        ranges = _cron_ranges(window.expression)
    else:
        ranges = tuple((r.start, r.end) for r in window.days[day.weekday()])
    out: list[Interval] = []
    for start, end in ranges:
        a, b = wall_to_utc(day, start, tz), wall_to_utc(day, end, tz)
        if a < b:  # a range entirely inside a DST gap is closed that day
            out.append((a, b))
    return tuple(out)


@lru_cache(maxsize=256)
def _cron_ranges(expression: str) -> tuple[tuple[time, time], ...]:
    """Matching minutes of any matching day, merged into wall-clock [start, end) ranges.

    Minute and hour fields do not depend on the day, so this is computed once per
    expression; the day fields are checked separately (`cron_matches_day`).
    """
    minutes_f, hours_f = croniter(expression).expanded[:2]
    minutes = range(60) if minutes_f == ["*"] else sorted(int(m) for m in minutes_f)
    hours = range(24) if hours_f == ["*"] else sorted(int(h) for h in hours_f)
    of_day = [h * 60 + m for h in hours for m in minutes]
    runs: list[list[int]] = []
    for value in of_day:
        if runs and runs[-1][1] == value:
            runs[-1][1] = value + 1
        else:
            runs.append([value, value + 1])
    return tuple((_minute_time(a), _minute_time(b)) for a, b in runs)


def _minute_time(minute_of_day: int) -> time:
    return time.max if minute_of_day == 1440 else time(*divmod(minute_of_day, 60))


@lru_cache(maxsize=16384)
def cron_matches_day(expression: str, day: date) -> bool:
    return next_cron_day(expression, day) == day


@lru_cache(maxsize=16384)
def next_cron_day(expression: str, day: date) -> date | None:
    """The first local date >= `day` on which the cron expression matches (None: never).

    croniter works on naive wall-clock datetimes here on purpose: it then only does
    calendar arithmetic, and DST is handled by `wall_to_utc` alone.
    """
    start = datetime.combine(day, time(0)) - timedelta(seconds=1)
    try:
        found: datetime = croniter(expression, start).get_next(datetime)
    except CroniterBadDateError:
        return None
    return found.date()

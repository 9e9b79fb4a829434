"""Invariants of the planner, checked by hypothesis over windows, zones, calendars, instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.schedule.calendar import BusinessCalendar
from engine.schedule.localtime import wall_to_utc
from engine.schedule.planner import SendPolicy, add_wait, is_allowed, next_slot
from engine.schedule.types import CronWindow, Duration, DurationUnit, TimeRange, WeeklyWindow

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kolkata",  # no DST, +05:30
    "America/Santiago",  # DST switches at midnight
    "UTC",
]
CRONS = [
    "*/10 9-16 * * mon-fri",
    "0 9,12,15 * * *",
    "* 2 * * *",  # the hour DST plays with
    "30 2 * * sun",
    "15 8 1-7 * mon",
    "* * * * *",
]
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def weekly_windows(draw: st.DrawFn) -> WeeklyWindow:
    days = []
    for _ in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))  # quarter hours
        cuts = cuts[: len(cuts) // 2 * 2]
        ranges = [
            TimeRange(_quarter(a), _quarter(b)) for a, b in zip(cuts[::2], cuts[1::2], strict=True)
        ]
        days.append(tuple(ranges))
    if not any(days):
        days[draw(st.integers(0, 6))] = (TimeRange(time(9), time(17)),)
    return WeeklyWindow(tuple(days))


def _quarter(n: int) -> time:
    return time.max if n == 96 else time(n // 4, n % 4 * 15)


windows = st.one_of(weekly_windows(), st.sampled_from(CRONS).map(CronWindow.parse))
calendars = st.one_of(
    st.just(BusinessCalendar()),
    st.sampled_from(["DE-BY", "US-CA", "GB", "IN"]).map(BusinessCalendar.from_region),
    st.sets(st.dates(date(2025, 12, 1), date(2027, 2, 1)), max_size=40).map(
        lambda days: BusinessCalendar(extra_holidays=frozenset(days))
    ),
)
policies = st.builds(SendPolicy, windows, calendars, st.booleans())
zones = st.sampled_from(ZONES).map(ZoneInfo)
instants = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
keys = st.text(min_size=1, max_size=30)


def _wall_inside(policy: SendPolicy, local: datetime) -> bool:
    """Independent check of the window by wall-clock reading (first pass of repeated hours)."""
    window = policy.window
    if isinstance(window, CronWindow):
        from croniter import croniter

        return bool(croniter.match(window.expression, local.replace(tzinfo=None)))
    wall = local.time().replace(tzinfo=None)
    return any(
        r.start <= wall and (r.end == time.max or wall < r.end)
        for r in window.days[local.weekday()]
    )


@PROFILE
@given(policies, zones, instants, st.none() | keys)
def test_slot_is_allowed_and_not_early(
    policy: SendPolicy, tz: ZoneInfo, earliest: datetime, key: str | None
) -> None:
    slot = next_slot(earliest, policy, tz, spread_key=key)
    assert slot.at >= earliest
    assert slot.at.tzinfo is UTC
    assert slot.local == slot.at and slot.local.tzinfo is tz
    assert is_allowed(slot.at, policy, tz)
    if policy.skip_holidays:
        assert policy.calendar.holiday_name(slot.local.date()) is None
    # The window read by wall clock agrees, except on the second pass of a repeated hour
    # (a range spanning it covers the second pass too; see localtime.py).
    assert _wall_inside(policy, slot.local) or slot.local.fold == 1 or _after_gap(slot, tz)
    if key is None and slot.at > earliest:
        assert not is_allowed(slot.at - timedelta(microseconds=1), policy, tz)
    if key is None and is_allowed(earliest, policy, tz):
        assert slot.at == earliest


def _after_gap(slot: object, tz: ZoneInfo) -> bool:
    # A window start in a DST gap opens at the end of the gap: its wall time is later.
    at = slot.at  # type: ignore[attr-defined]
    return bool(
        (at - timedelta(hours=3)).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset()
    )


@PROFILE
@given(policies, zones, instants, st.integers(0, 10 * 24 * 3600))
def test_monotonic(policy: SendPolicy, tz: ZoneInfo, earliest: datetime, later_by: int) -> None:
    later = earliest + timedelta(seconds=later_by)
    assert next_slot(earliest, policy, tz).at <= next_slot(later, policy, tz).at


@PROFILE
@given(policies, zones, instants, keys)
def test_spread_is_deterministic_and_on_the_first_open_day(
    policy: SendPolicy, tz: ZoneInfo, earliest: datetime, key: str
) -> None:
    spread = next_slot(earliest, policy, tz, spread_key=key)
    assert spread == next_slot(earliest, policy, tz, spread_key=key)
    plain = next_slot(earliest, policy, tz)
    assert spread.local.date() == plain.local.date()
    assert spread.at >= plain.at


durations = st.builds(Duration, st.integers(0, 30), st.sampled_from(list(DurationUnit)))


@PROFILE
@given(instants, durations, zones, calendars)
def test_add_wait_is_never_early(
    start: datetime, wait: Duration, tz: ZoneInfo, calendar: BusinessCalendar
) -> None:
    end = add_wait(start, wait, tz, calendar)
    assert end.tzinfo is UTC
    assert end >= start
    if wait.unit in (DurationUnit.DAYS, DurationUnit.BUSINESS_DAYS) and wait.amount:
        # Same wall time on a later day, unless that wall time fell into a DST gap.
        wall = start.astimezone(tz).time().replace(tzinfo=None)
        day = end.astimezone(tz).date()
        assert end == max(wall_to_utc(day, wall, tz), start)
        assert day >= start.astimezone(tz).date() + timedelta(days=wait.amount)
    if wait.unit is DurationUnit.BUSINESS_DAYS and wait.amount:
        assert calendar.is_business_day(end.astimezone(tz).date())

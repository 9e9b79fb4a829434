from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.schedule.calendar import BusinessCalendar
from engine.schedule.localtime import wall_to_utc
from engine.schedule.planner import (
    SendPolicy,
    WindowNeverOpens,
    add_wait,
    describe_window,
    explain,
    is_allowed,
    next_slot,
    plan_after_wait,
)
from engine.schedule.types import CronWindow, Duration, WeeklyWindow

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
BAVARIA = BusinessCalendar.from_region("DE-BY")
NOWHERE = BusinessCalendar()


def policy(window: str, calendar: BusinessCalendar = BAVARIA) -> SendPolicy:
    """Cron when it starts like one ("*/10 ...", "0 9 ..."), else the weekly grammar."""
    cron = window[0] in "*0123456789"
    parsed = CronWindow.parse(window) if cron else WeeklyWindow.parse(window)
    return SendPolicy(parsed, calendar)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


# --- weekly windows -------------------------------------------------------------------


def test_inside_the_window_sends_right_away() -> None:
    slot = next_slot(local(BERLIN, 2026, 3, 24, 9, 30), policy("Mon-Fri 09:00-10:00"), BERLIN)
    assert slot.local == local(BERLIN, 2026, 3, 24, 9, 30)
    assert slot.at.tzinfo is UTC
    assert slot.timezone == "Europe/Berlin"
    assert slot.reasons == ("window Mon-Fri 09:00-10:00",)


def test_after_the_window_waits_for_next_weekday() -> None:
    slot = next_slot(local(BERLIN, 2026, 3, 27, 14, 2), policy("Mon-Fri 09:00-10:00"), BERLIN)
    assert slot.local == local(BERLIN, 2026, 3, 30, 9, 0)
    assert slot.reasons == (
        "2026-03-27: window already over at 14:02",
        "2026-03-28 is a Saturday",
        "2026-03-29 is a Sunday",
        "window Mon-Fri 09:00-10:00",
    )


def test_end_is_exclusive_and_several_ranges_per_day() -> None:
    p = policy("Mon-Thu 09:00-12:00,14:00-17:00; Fri 09:00-12:00")
    assert is_allowed(local(BERLIN, 2026, 3, 24, 11, 59, 59), p, BERLIN)
    assert not is_allowed(local(BERLIN, 2026, 3, 24, 12, 0), p, BERLIN)
    assert next_slot(local(BERLIN, 2026, 3, 24, 12, 0), p, BERLIN).local.hour == 14
    # Friday has no afternoon range: the next slot is Monday morning.
    assert next_slot(local(BERLIN, 2026, 3, 27, 12, 0), p, BERLIN).local == local(
        BERLIN, 2026, 3, 30, 9, 0
    )
    assert describe_window(p.window) == ("window Mon-Thu 09:00-12:00,14:00-17:00; Fri 09:00-12:00")


def test_24_00_end_runs_to_midnight() -> None:
    p = policy("Sat 18:00-24:00; Sun 00:00-06:00", NOWHERE)
    assert is_allowed(local(BERLIN, 2026, 3, 28, 23, 59, 59), p, BERLIN)
    assert is_allowed(local(BERLIN, 2026, 3, 29, 0, 0), p, BERLIN)
    assert not is_allowed(local(BERLIN, 2026, 3, 29, 6, 0), p, BERLIN)
    assert describe_window(p.window) == "window Sat 18:00-24:00; Sun 00:00-06:00"


def test_naive_datetimes_are_refused() -> None:
    p = policy("Mon-Fri 09:00-10:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        next_slot(datetime(2026, 3, 24, 9, 0), p, BERLIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_allowed(datetime(2026, 3, 24, 9, 0), p, BERLIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_wait(datetime(2026, 3, 24, 9, 0), Duration.parse("1 day"), BERLIN, BAVARIA)


# --- holidays -------------------------------------------------------------------------


def test_easter_in_bavaria_is_skipped_and_explained() -> None:
    slot = next_slot(local(BERLIN, 2026, 4, 2, 10, 30), policy("Mon-Fri 09:00-10:00"), BERLIN)
    assert slot.local == local(BERLIN, 2026, 4, 7, 9, 0)
    assert explain(slot) == (
        "2026-04-07 09:00 Europe/Berlin (Tue): 2026-04-02: window already over at 10:30; "
        "2026-04-03 is Good Friday (DE-BY); 2026-04-04 is a Saturday; 2026-04-05 is a Sunday; "
        "2026-04-06 is Easter Monday (DE-BY); window Mon-Fri 09:00-10:00"
    )


def test_holidays_can_be_ignored_and_company_dates_added() -> None:
    window = WeeklyWindow.parse("Mon-Fri 09:00-10:00")
    sends_on_holidays = SendPolicy(window, BAVARIA, skip_holidays=False)
    assert is_allowed(local(BERLIN, 2026, 4, 6, 9, 0), sends_on_holidays, BERLIN)
    company = SendPolicy(window, BusinessCalendar.from_region(None, extra=[date(2026, 3, 24)]))
    slot = next_slot(local(BERLIN, 2026, 3, 24, 8, 0), company, BERLIN)
    assert slot.local == local(BERLIN, 2026, 3, 25, 9, 0)
    assert slot.reasons[0] == "2026-03-24 is a company holiday"


def test_window_that_never_opens_gives_up() -> None:
    # Only open on 25 December, which is always a holiday in Germany.
    p = policy("0 9 25 12 *")
    with pytest.raises(WindowNeverOpens, match="never opens within 400 days"):
        next_slot(utc(2026, 1, 1), p, BERLIN)
    # A weekly window only on Sunday, with every Sunday a company holiday in range.
    sundays = {date(2026, 1, 4) + timedelta(weeks=n) for n in range(70)}
    closed = SendPolicy(
        WeeklyWindow.parse("Sun 10:00-11:00"), BusinessCalendar(extra_holidays=frozenset(sundays))
    )
    with pytest.raises(ValueError, match="never opens"):
        next_slot(utc(2026, 1, 1), closed, BERLIN)


def test_many_skipped_days_are_summarised() -> None:
    p = policy("0 9 1 * *", NOWHERE)  # first of the month
    slot = next_slot(local(BERLIN, 2026, 3, 2, 0, 0), p, BERLIN)
    assert slot.local == local(BERLIN, 2026, 4, 1, 9, 0)
    assert slot.reasons == ("2026-03-02..2026-03-31: cron does not match", "cron '0 9 1 * *'")


# --- DST ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "before", "after"),
    [
        (BERLIN, date(2026, 3, 27), date(2026, 3, 30)),  # spring forward 2026-03-29
        (BERLIN, date(2026, 10, 23), date(2026, 10, 26)),  # fall back 2026-10-25
        (NEW_YORK, date(2026, 3, 6), date(2026, 3, 9)),  # spring forward 2026-03-08
        (NEW_YORK, date(2026, 10, 30), date(2026, 11, 2)),  # fall back 2026-11-01
    ],
)
def test_nine_stays_nine_across_dst(tz: ZoneInfo, before: date, after: date) -> None:
    p = SendPolicy(WeeklyWindow.parse("Mon-Fri 09:00-10:00"), NOWHERE)
    first = next_slot(wall_to_utc(before, datetime.min.time(), tz), p, tz)
    second = next_slot(first.at + timedelta(hours=2), p, tz)
    assert (first.local.hour, first.local.minute) == (9, 0)
    assert (second.local.hour, second.local.minute) == (9, 0)
    assert second.local.date() == after
    assert second.at - first.at != timedelta(days=3)  # the UTC offset changed in between


def test_start_in_the_spring_gap_moves_to_the_end_of_the_gap() -> None:
    p = policy("Sun 02:30-04:00", NOWHERE)
    slot = next_slot(local(BERLIN, 2026, 3, 29, 0, 0), p, BERLIN)
    assert slot.at == utc(2026, 3, 29, 1, 0)  # 03:00 CEST, the first instant after the gap
    assert slot.local.strftime("%H:%M %Z") == "03:00 CEST"
    assert slot.reasons == ("2026-03-29: clocks go forward 1:00 (DST)", "window Sun 02:30-04:00")
    # A range that lies entirely in the gap is closed that day.
    gap_only = policy("Sun 02:00-02:59", NOWHERE)
    moved = next_slot(local(BERLIN, 2026, 3, 29, 0, 0), gap_only, BERLIN)
    assert moved.local.date() == date(2026, 4, 5)
    assert moved.reasons[0] == "2026-03-29: the window lies in the DST gap"


def test_repeated_hour_uses_the_first_occurrence() -> None:
    p = policy("Sun 02:00-02:30", NOWHERE)
    slot = next_slot(local(BERLIN, 2026, 10, 25, 0, 0), p, BERLIN)
    assert slot.at == utc(2026, 10, 25, 0, 0)  # 02:00 CEST, not 02:00 CET
    assert slot.local.fold == 0
    assert slot.reasons[0] == "2026-10-25: clocks go back 1:00 (DST)"
    assert is_allowed(utc(2026, 10, 25, 0, 15), p, BERLIN)  # first pass: open
    assert not is_allowed(utc(2026, 10, 25, 1, 15), p, BERLIN)  # second pass: closed
    # A range around the repeated hour covers both passes (three real hours).
    around = policy("Sun 01:00-03:00", NOWHERE)
    assert is_allowed(utc(2026, 10, 25, 1, 59), around, BERLIN)
    assert not is_allowed(utc(2026, 10, 25, 2, 0), around, BERLIN)


# --- waits ----------------------------------------------------------------------------


def test_minutes_and_hours_are_elapsed_time() -> None:
    start = utc(2026, 3, 29, 0, 30)  # 01:30 CET, just before the spring jump
    assert add_wait(start, Duration.parse("2 hours"), BERLIN, NOWHERE) == utc(2026, 3, 29, 2, 30)
    assert add_wait(start, Duration.parse("30m"), BERLIN, NOWHERE) == utc(2026, 3, 29, 1, 0)


def test_days_keep_the_wall_time_across_dst() -> None:
    start = local(BERLIN, 2026, 3, 28, 9, 0)
    end = add_wait(start, Duration.parse("2 days"), BERLIN, NOWHERE)
    assert end.astimezone(BERLIN) == local(BERLIN, 2026, 3, 30, 9, 0)
    assert end - start == timedelta(hours=47)
    end = add_wait(local(NEW_YORK, 2026, 10, 31, 9), Duration.parse("1 week"), NEW_YORK, NOWHERE)
    assert end.astimezone(NEW_YORK) == local(NEW_YORK, 2026, 11, 7, 9, 0)


def test_days_landing_in_the_gap_move_to_its_end() -> None:
    end = add_wait(local(BERLIN, 2026, 3, 28, 2, 30), Duration.parse("1 day"), BERLIN, NOWHERE)
    assert end == utc(2026, 3, 29, 1, 0)


def test_business_days_skip_weekends_and_holidays() -> None:
    wait = Duration.parse("3 business days")
    friday = local(BERLIN, 2026, 3, 27, 14, 2)
    assert add_wait(friday, wait, BERLIN, BAVARIA).astimezone(BERLIN) == local(
        BERLIN, 2026, 4, 1, 14, 2
    )
    # Thursday before Easter: Fri (Good Friday), Sat, Sun, Mon (Easter Monday) do not count.
    thursday = local(BERLIN, 2026, 4, 2, 11, 0)
    assert add_wait(thursday, wait, BERLIN, BAVARIA).astimezone(BERLIN) == local(
        BERLIN, 2026, 4, 9, 11, 0
    )
    # From a Saturday, the first business day is Monday.
    saturday = local(NEW_YORK, 2026, 3, 7, 10, 0)
    one = Duration.parse("1 business day")
    assert add_wait(saturday, one, NEW_YORK, NOWHERE).astimezone(NEW_YORK) == local(
        NEW_YORK, 2026, 3, 9, 10, 0
    )


def test_plan_after_wait_puts_the_wait_first() -> None:
    p = policy("Mon-Fri 09:00-10:00")
    slot = plan_after_wait(
        local(BERLIN, 2026, 3, 24, 14, 2), Duration.parse("3 business days"), p, BERLIN
    )
    assert slot.local == local(BERLIN, 2026, 3, 30, 9, 0)
    assert slot.reasons[0] == "wait until 2026-03-27 14:02 (3 business days)"
    assert slot.reasons[-1] == "window Mon-Fri 09:00-10:00"


# --- cron windows ---------------------------------------------------------------------


def test_cron_minutes_are_local_and_exact() -> None:
    p = policy("*/10 9-16 * * mon-fri")
    assert is_allowed(local(BERLIN, 2026, 3, 24, 9, 10, 59), p, BERLIN)
    assert not is_allowed(local(BERLIN, 2026, 3, 24, 9, 11), p, BERLIN)
    assert not is_allowed(local(BERLIN, 2026, 3, 24, 17, 0), p, BERLIN)
    slot = next_slot(local(BERLIN, 2026, 3, 24, 9, 11), p, BERLIN)
    assert slot.local == local(BERLIN, 2026, 3, 24, 9, 20)
    slot = next_slot(local(BERLIN, 2026, 4, 2, 17, 0), p, BERLIN)
    assert slot.local == local(BERLIN, 2026, 4, 7, 9, 0)  # Easter skipped


def test_cron_across_dst_keeps_local_minutes() -> None:
    p = policy("30 9 * * *", NOWHERE)
    for day in (27, 28, 29, 30):
        slot = next_slot(local(NEW_YORK, 2026, 3, 7, 0) + timedelta(days=day - 7), p, NEW_YORK)
        assert (slot.local.hour, slot.local.minute) == (9, 30)
    # A cron minute inside the spring gap does not exist that day.
    gap = policy("30 2 * * *", NOWHERE)
    slot = next_slot(local(NEW_YORK, 2026, 3, 8, 0), gap, NEW_YORK)
    assert slot.local == local(NEW_YORK, 2026, 3, 9, 2, 30)
    assert slot.reasons[0] == "2026-03-08: no cron minute exists that day (DST)"


def test_cron_spread_lands_in_a_matching_minute() -> None:
    p = policy("0 9,12,15 * * *", NOWHERE)
    minutes = set()
    for n in range(60):
        slot = next_slot(local(BERLIN, 2026, 3, 24, 0), p, BERLIN, spread_key=f"e:{n}")
        assert slot.local.date() == date(2026, 3, 24)
        assert (slot.local.hour, slot.local.minute) in {(9, 0), (12, 0), (15, 0)}
        minutes.add(slot.local.hour)
    assert minutes == {9, 12, 15}


# --- spreading ------------------------------------------------------------------------


def test_spread_distributes_a_batch_over_the_window() -> None:
    p = policy("Mon-Fri 09:00-10:00")
    earliest = local(BERLIN, 2026, 3, 24, 9, 0)
    slots = [
        next_slot(earliest, p, BERLIN, spread_key=f"enrollment:{n}:step:bump") for n in range(500)
    ]
    assert all(s.local.date() == date(2026, 3, 24) for s in slots)
    assert all(9 <= s.local.hour < 10 for s in slots)
    assert len({s.at for s in slots}) > 450  # practically all distinct seconds
    # Every quarter hour gets a fair share.
    quarters = [sum(1 for s in slots if s.local.minute // 15 == q) for q in range(4)]
    assert min(quarters) > 80
    assert slots[0] == next_slot(earliest, p, BERLIN, spread_key="enrollment:0:step:bump")
    assert slots[0].reasons[-1] == "spread over the open time of 2026-03-24"
    assert slots[0].at.microsecond == 0


def test_spread_only_uses_time_after_earliest() -> None:
    p = policy("Mon-Fri 09:00-10:00")
    earliest = local(BERLIN, 2026, 3, 24, 9, 50)
    for n in range(100):
        slot = next_slot(earliest, p, BERLIN, spread_key=str(n))
        assert local(BERLIN, 2026, 3, 24, 9, 50) <= slot.local < local(BERLIN, 2026, 3, 24, 10)

"""The scenario of issue 3: a 09:00-10:00 Berlin window across both DST weekends and Easter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.schedule.calendar import BusinessCalendar
from engine.schedule.planner import SendPolicy, add_wait, explain, plan_after_wait
from engine.schedule.types import Duration, WeeklyWindow

BERLIN = ZoneInfo("Europe/Berlin")
POLICY = SendPolicy(
    WeeklyWindow.parse("Mon-Fri 09:00-10:00"), BusinessCalendar.from_region("DE-BY")
)
WAITS = [Duration.parse(w) for w in ("0 minutes", "1 business day", "2 days", "3 business days")]
HOLIDAYS_2026 = {date(2026, 4, 3), date(2026, 4, 6)}  # Good Friday, Easter Monday (DE-BY)


@pytest.mark.parametrize(
    ("first_enrolment", "switch"),
    [
        (datetime(2026, 3, 23, 7, 0, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 10, 19, 7, 0, tzinfo=UTC), date(2026, 10, 25)),
    ],
    ids=["spring-dst-and-easter", "autumn-dst"],
)
def test_every_send_is_inside_the_window_on_a_business_day(
    first_enrolment: datetime, switch: date
) -> None:
    sent_days: set[date] = set()
    utc_hours: dict[bool, set[int]] = {True: set(), False: set()}
    for prospect in range(120):
        # Enrolments every 3h17m over ~16 days cover every weekday and hour.
        previous = first_enrolment + timedelta(minutes=197 * prospect)
        for step, wait in enumerate(WAITS):
            slot = plan_after_wait(
                previous, wait, POLICY, BERLIN, spread_key=f"enrollment:{prospect}:step:{step}"
            )
            local = slot.at.astimezone(BERLIN)
            assert time(9) <= local.time().replace(tzinfo=None) < time(10), explain(slot)
            assert local.weekday() < 5, explain(slot)
            assert local.date() not in HOLIDAYS_2026, explain(slot)
            assert slot.at >= add_wait(previous, wait, BERLIN, POLICY.calendar)
            sent_days.add(local.date())
            utc_hours[local.date() > switch].add(slot.at.hour)
            previous = slot.at
    # The sends really straddle the switch: same 09:xx Berlin, one hour apart in UTC.
    assert utc_hours == ({True: {7}, False: {8}} if switch.month == 3 else {True: {8}, False: {7}})
    if switch.month == 3:
        assert {date(2026, 4, 2), date(2026, 4, 7)} <= sent_days


def test_easter_explanation() -> None:
    thursday_after_window = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)  # 12:00 Berlin
    slot = plan_after_wait(thursday_after_window, Duration.parse("0 minutes"), POLICY, BERLIN)
    assert explain(slot) == (
        "2026-04-07 09:00 Europe/Berlin (Tue): wait until 2026-04-02 12:00 (0 minutes); "
        "2026-04-02: window already over at 12:00; 2026-04-03 is Good Friday (DE-BY); "
        "2026-04-04 is a Saturday; 2026-04-05 is a Sunday; 2026-04-06 is Easter Monday (DE-BY); "
        "window Mon-Fri 09:00-10:00"
    )

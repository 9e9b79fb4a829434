"""`simulate` runs the real engine on a virtual clock: DST weekends and Easter in Berlin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from engine.outbound.simulate import SequenceInput, simulate

BERLIN = ZoneInfo("Europe/Berlin")
SPEC: dict[str, Any] = {
    "key": "dst-easter",
    "name": "DST and Easter",
    "mailboxes": ["anna", "ben"],
    "schedule": {
        "timezone": "prospect",
        "fallback_timezone": "Europe/Berlin",
        "window": "Mon-Fri 09:00-10:00",
        "holidays": "DE",
    },
    "stop_on": ["reply"],
    "steps": [
        {"id": "intro", "type": "email", "subject": "Hi {{ first_name }}", "body": "Hello"},
        {"id": "wait-1", "type": "wait", "duration": "2 days"},
        {"id": "bump", "type": "email", "thread": "previous", "body": "Bump"},
        {"id": "wait-2", "type": "wait", "duration": "3 business days"},
        {
            "id": "call-1",
            "type": "call",
            "title": "Call {{ first_name }}",
            "due": "1 business day",
            "blocking": True,
        },
        {"id": "wait-3", "type": "wait", "duration": "1 week"},
        {"id": "breakup", "type": "email", "subject": "Closing the loop", "body": "Bye"},
    ],
}


def _prospects(n: int) -> list[dict[str, Any]]:
    return [
        {
            "email": f"p{i}@firm{i}.example",
            "first_name": f"P{i}",
            "custom": {},
            "timezone": None if i % 3 == 0 else "Europe/Berlin",
        }
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "start", [datetime(2026, 3, 26, 7, 0, tzinfo=UTC), datetime(2026, 10, 21, 7, 0, tzinfo=UTC)]
)
def test_sends_stay_in_the_local_window_across_dst_and_easter(start: datetime) -> None:
    sequence = SequenceInput("dst-easter", "DST and Easter", SPEC, {}, ["anna", "ben"])
    actions = simulate(sequence, _prospects(12), start, 40)
    emails = [a for a in actions if a.type == "email"]
    assert len(emails) == 12 * 3 and len([a for a in actions if a.type == "call"]) == 12
    de = holidays.country_holidays("DE", years=[2026])
    for a in emails:
        local = a.at.astimezone(BERLIN)
        assert local == a.local_time and a.timezone == "Europe/Berlin"
        assert 9 <= local.hour < 10, a
        assert local.weekday() < 5 and local.date() not in de, a
    by_prospect: dict[str, dict[str, datetime]] = {}
    for a in actions:
        by_prospect.setdefault(a.prospect, {})[a.step] = a.at
    for steps in by_prospect.values():
        # waits count from the send: "2 days" keeps the local wall time, then the next slot
        assert steps["bump"] >= _wall_plus(steps["intro"], days=2)
        assert steps["breakup"] >= steps["call-1"] + timedelta(days=7) - timedelta(hours=1)
    # the spring switch: sends on both sides of 2026-03-29 are at 09:xx local
    if start.month == 3:
        local_dates = {a.at.astimezone(BERLIN).date() for a in emails}
        assert any(d < date(2026, 3, 29) for d in local_dates)
        assert any(d > date(2026, 3, 29) for d in local_dates)
        assert not {date(2026, 4, 3), date(2026, 4, 6)} & local_dates  # Good Friday, Easter Monday


def _wall_plus(instant: datetime, *, days: int) -> datetime:
    local = instant.astimezone(BERLIN)
    return datetime.combine(local.date() + timedelta(days=days), local.time(), BERLIN)


def test_caps_apply_in_the_simulation() -> None:
    spec = {**SPEC, "steps": SPEC["steps"][:1]}
    sequence = SequenceInput("caps", "Caps", spec, {}, ["anna"])
    actions = simulate(
        sequence,
        _prospects(30),
        datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
        10,
        mailbox_settings={"anna": {"daily_cap": 10}},
    )
    per_day: dict[date, int] = {}
    for a in actions:
        per_day[a.local_time.date()] = per_day.get(a.local_time.date(), 0) + 1
    assert sum(per_day.values()) == 30
    assert max(per_day.values()) == 10 and len(per_day) == 3

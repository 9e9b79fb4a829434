"""`holidays: prospect`: each prospect is held only by their own country's and region's holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from engine.outbound.simulate import SequenceInput, simulate

SPEC: dict[str, Any] = {
    "key": "two-continents",
    "name": "Two continents",
    "mailboxes": ["anna"],
    "schedule": {
        "timezone": "prospect",
        "fallback_timezone": "Europe/London",
        "window": "Mon-Fri 09:00-17:00",
        "holidays": "prospect",
        "fallback_holidays": "GB",
    },
    "stop_on": ["reply"],
    "steps": [{"id": "intro", "type": "email", "subject": "Hi {{ first_name }}", "body": "Hi"}],
}
PEOPLE: list[dict[str, Any]] = [
    {
        "email": "jane@gotham.example",
        "first_name": "Jane",
        "timezone": "America/New_York",
        "country": "US",
        "region": "NY",
        "custom": {},
    },
    {
        "email": "lena@alpen.example",
        "first_name": "Lena",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "region": "BY",
        "custom": {},
    },
    {"email": "kim@nowhere.example", "first_name": "Kim", "custom": {}},  # fallback: GB
]


def _first_send_days(start: datetime) -> dict[str, date]:
    sequence = SequenceInput("two-continents", "Two continents", SPEC, {}, ["anna"])
    actions = simulate(sequence, PEOPLE, start, 10)
    return {a.prospect: a.local_time.date() for a in actions if a.type == "email"}


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Thanksgiving, Thursday 2026-11-26: New York waits for Friday, Munich and London don't.
        (
            datetime(2026, 11, 26, 3, 0, tzinfo=UTC),
            {
                "jane@gotham.example": date(2026, 11, 27),
                "lena@alpen.example": date(2026, 11, 26),
                "kim@nowhere.example": date(2026, 11, 26),
            },
        ),
        # Epiphany, Tuesday 2026-01-06, a holiday in Bavaria: only Munich waits.
        (
            datetime(2026, 1, 6, 3, 0, tzinfo=UTC),
            {
                "jane@gotham.example": date(2026, 1, 6),
                "lena@alpen.example": date(2026, 1, 7),
                "kim@nowhere.example": date(2026, 1, 6),
            },
        ),
    ],
)
def test_each_prospect_is_held_only_by_their_own_holidays(
    start: datetime, expected: dict[str, date]
) -> None:
    assert _first_send_days(start) == expected


def test_the_fallback_calendar_holds_prospects_of_unknown_country() -> None:
    # Boxing Day, Saturday 2026-12-26, is observed in England on Monday 2026-12-28.
    days = _first_send_days(datetime(2026, 12, 28, 3, 0, tzinfo=UTC))
    assert days["kim@nowhere.example"] == date(2026, 12, 29)
    assert days["jane@gotham.example"] == date(2026, 12, 28)

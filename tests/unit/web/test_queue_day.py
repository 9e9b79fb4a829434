"""Where "today" ends in the SDR queue: local midnight of the team's timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.errors import ConfigError
from engine.people.task_queue import end_of_day
from engine.settings import load_settings

BERLIN = ZoneInfo("Europe/Berlin")


def test_late_evening_utc_is_already_tomorrow_in_berlin() -> None:
    at = datetime(2026, 6, 10, 22, 30, tzinfo=UTC)  # 00:30 on the 11th in Berlin (CEST)
    assert end_of_day(at, BERLIN) == datetime(2026, 6, 11, 22, 0, tzinfo=UTC)
    assert end_of_day(at, ZoneInfo("UTC")) == datetime(2026, 6, 11, 0, 0, tzinfo=UTC)


def test_the_day_of_the_clock_change_ends_at_local_midnight() -> None:
    at = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # the spring switch: a 23-hour day
    assert end_of_day(at, BERLIN) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    at = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # the autumn switch: a 25-hour day
    assert end_of_day(at, BERLIN) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def test_an_unknown_timezone_is_a_one_line_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KADENZ_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ConfigError, match=r"^KADENZ_TIMEZONE: 'Europe/Atlantis' is not an IANA"):
        load_settings()
    monkeypatch.setenv("KADENZ_TIMEZONE", "Europe/Berlin")
    assert load_settings().zone == BERLIN

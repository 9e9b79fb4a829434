from datetime import date
from zoneinfo import ZoneInfo

import pytest

from engine.schedule.calendar import BusinessCalendar, validate_region
from engine.schedule.zones import resolve_timezone, validate_timezone


def test_bavaria_2026_has_easter_and_corpus_christi() -> None:
    cal = BusinessCalendar.from_region("DE-BY")
    assert (cal.country, cal.subdiv, cal.region) == ("DE", "BY", "DE-BY")
    assert cal.holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert cal.holiday_name(date(2026, 4, 6)) == "Easter Monday"
    assert cal.holiday_name(date(2026, 6, 4)) == "Corpus Christi"
    assert cal.holiday_name(date(2026, 4, 7)) is None
    assert not cal.is_business_day(date(2026, 4, 6))
    assert not cal.is_business_day(date(2026, 4, 4))  # Saturday
    assert cal.is_business_day(date(2026, 4, 7))


def test_subdivision_matters() -> None:
    # Corpus Christi is a holiday in Bavaria but not in Berlin.
    assert BusinessCalendar.from_region("DE-BE").holiday_name(date(2026, 6, 4)) is None
    assert BusinessCalendar.from_region("de-by").subdiv == "BY"


def test_us_observed_holiday_and_gb() -> None:
    us = BusinessCalendar.from_region("US-CA")
    assert us.holiday_name(date(2026, 7, 3)) == "Independence Day (observed)"
    assert BusinessCalendar.from_region("GB").holiday_name(date(2026, 12, 25)) == "Christmas Day"


def test_no_region_means_only_weekends_and_company_dates() -> None:
    cal = BusinessCalendar.from_region(None, extra=[date(2026, 12, 24)])
    assert cal.holiday_name(date(2026, 12, 25)) is None
    assert cal.holiday_name(date(2026, 12, 24)) == "a company holiday"
    assert cal.describe_holiday(date(2026, 12, 24)) == "2026-12-24 is a company holiday"
    assert not cal.is_business_day(date(2026, 12, 24))


def test_custom_workdays() -> None:
    cal = BusinessCalendar.from_region("AE", workdays={0, 1, 2, 3, 4})
    assert cal.workdays == frozenset({0, 1, 2, 3, 4})
    six = BusinessCalendar(workdays=frozenset({0, 1, 2, 3, 4, 5}))
    assert six.is_business_day(date(2026, 3, 28))  # a Saturday
    with pytest.raises(ValueError, match="non-empty set of weekday numbers"):
        BusinessCalendar(workdays=frozenset())
    with pytest.raises(ValueError, match="0-6"):
        BusinessCalendar(workdays=frozenset({7}))


def test_region_errors_say_how_to_fix() -> None:
    assert validate_region("DE-BY") is None
    assert validate_region("US") is None
    message = validate_region("DE-XX")
    assert message is not None
    assert message.startswith("unknown subdivision 'XX' of DE (use one of BB, BE, BW, BY")
    message = validate_region("ZZ")
    assert message is not None and "ISO 3166 code such as DE" in message
    with pytest.raises(ValueError, match="unknown subdivision 'XX' of DE"):
        BusinessCalendar.from_region("DE-XX")


def test_resolution_order() -> None:
    assert resolve_timezone("America/New_York", "Europe/Berlin", "UTC") == (
        ZoneInfo("America/New_York"),
        "prospect",
    )
    assert resolve_timezone(None, "Europe/Berlin", "UTC") == (ZoneInfo("Europe/Berlin"), "sequence")
    assert resolve_timezone("Mars/Olympus", "", "Asia/Tokyo") == (ZoneInfo("Asia/Tokyo"), "mailbox")
    assert resolve_timezone(None, None, None) == (ZoneInfo("UTC"), "default")
    assert resolve_timezone("localtime", None, None)[1] == "default"


def test_validate_timezone_suggests_a_fix() -> None:
    assert validate_timezone("Europe/Berlin") is None
    message = validate_timezone("Europe/Berln")
    assert message is not None
    assert "did you mean Europe/Berlin?" in message
    assert validate_timezone("../etc/passwd") is not None
    assert validate_timezone("") is not None

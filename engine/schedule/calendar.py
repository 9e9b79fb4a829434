"""Business calendars: which days are workdays, which are public or company holidays.

Public holidays come from the `holidays` package (one lookup table per country, subdivision
and year, cached); companies add their own dates (the office closes on 24 December).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays

DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MON_TO_FRI: frozenset[int] = frozenset({0, 1, 2, 3, 4})
COMPANY_HOLIDAY = "a company holiday"


@lru_cache(maxsize=1)
def _supported() -> dict[str, list[str]]:
    return dict(holidays.list_supported_countries())


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdiv: str | None, year: int) -> dict[date, str]:
    # English names everywhere the package has them (explanations are read by the team);
    # countries without an English translation fall back to their default language.
    table = holidays.country_holidays(country, subdiv=subdiv, years=year, language="en_US")
    return {day: str(name) for day, name in table.items()}


def _parse_region(region: str) -> tuple[str, str | None]:
    """Split "DE-BY" into ("DE", "BY") with canonical spelling; ValueError with a fix."""
    text = region.strip()
    country_part, _, subdiv_part = text.partition("-")
    country = country_part.strip().upper()
    supported = _supported()
    if country not in supported:
        close = difflib.get_close_matches(country, list(supported), n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ValueError(
            f"unknown country {country_part.strip()!r} in holidays region {region!r} "
            f"({hint}use an ISO 3166 code such as DE, US or GB, optionally with a "
            "subdivision: DE-BY, US-CA)"
        )
    if not subdiv_part.strip():
        return country, None
    subdivs = supported[country]
    by_upper = {s.upper(): s for s in subdivs}
    subdiv = by_upper.get(subdiv_part.strip().upper())
    if subdiv is None:
        listed = ", ".join(subdivs[:30]) + (", …" if len(subdivs) > 30 else "")
        choice = f"use one of {listed}" if subdivs else "it has none; use just the country"
        raise ValueError(f"unknown subdivision {subdiv_part.strip()!r} of {country} ({choice})")
    return country, subdiv


def validate_region(region: str) -> str | None:
    """None if `region` ("DE-BY", "US", "GB") is known, else the error message with its fix."""
    try:
        _parse_region(region)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class BusinessCalendar:
    """Workdays and holidays of one place. No country: only weekends and `extra_holidays`."""

    country: str | None = None  # ISO code, e.g. "DE"
    subdiv: str | None = None  # e.g. "BY"
    extra_holidays: frozenset[date] = frozenset()  # custom company dates
    workdays: frozenset[int] = MON_TO_FRI  # Mon=0

    def __post_init__(self) -> None:
        if not self.workdays or not self.workdays <= set(range(7)):
            raise ValueError(
                f"workdays must be a non-empty set of weekday numbers 0-6 (Mon=0), "
                f"got {sorted(self.workdays)}"
            )
        if self.subdiv is not None and self.country is None:
            raise ValueError("a subdivision needs a country (write e.g. 'DE-BY')")

    @classmethod
    def from_region(
        cls,
        region: str | None,
        extra: Iterable[date] = (),
        workdays: Iterable[int] = MON_TO_FRI,
    ) -> BusinessCalendar:
        """Calendar for "DE-BY", "US", "US-CA", "GB" or None (no public holidays)."""
        country, subdiv = _parse_region(region) if region and region.strip() else (None, None)
        return cls(country, subdiv, frozenset(extra), frozenset(workdays))

    @classmethod
    def for_place(
        cls,
        country: str | None,
        subdiv: str | None,
        fallback: BusinessCalendar,
    ) -> BusinessCalendar:
        """A person's own calendar (`holidays: prospect`): their country and, when the
        `holidays` package knows it, their region; `fallback` when it knows neither."""
        if not country:
            return fallback
        for region in ((f"{country}-{subdiv}",) if subdiv else ()) + (country,):
            try:
                found, part = _parse_region(region)
            except ValueError:
                continue
            return cls(found, part, fallback.extra_holidays, fallback.workdays)
        return fallback

    @property
    def region(self) -> str | None:
        """ "DE-BY", "US" or None: how holidays are labelled in explanations."""
        if self.country is None:
            return None
        return f"{self.country}-{self.subdiv}" if self.subdiv else self.country

    def holiday_name(self, day: date) -> str | None:
        """The holiday's name ("Easter Monday", "a company holiday"), or None."""
        if day in self.extra_holidays:
            return COMPANY_HOLIDAY
        if self.country is None:
            return None
        return _public_holidays(self.country, self.subdiv, day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and self.holiday_name(day) is None

    def describe_holiday(self, day: date) -> str | None:
        """ "2026-04-06 is Easter Monday (DE-BY)", or None when `day` is no holiday."""
        name = self.holiday_name(day)
        if name is None:
            return None
        if name == COMPANY_HOLIDAY or self.region is None:
            return f"{day.isoformat()} is {name}"
        return f"{day.isoformat()} is {name} ({self.region})"

"""Small validated value types of a sequence file: slugs, durations, timezones, holiday regions.

Pure: zoneinfo and `holidays` read only their bundled data.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from functools import cache
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from engine.schedule.types import Duration

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
SLUG_HINT = "lower-case letters, digits, '-' and '_', starting with a letter or digit"


def _duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration (write e.g. '3 business days')")
    return Duration.parse(value)


DurationField = Annotated[
    Duration,
    PlainValidator(_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "description": "A duration: minutes, hours, days (calendar), business days, weeks.",
            "examples": ["30 minutes", "4 hours", "2 days", "3 business days", "1 week"],
            "pattern": r"^\s*\d{1,5}\s*[A-Za-z][A-Za-z ]*$",
        }
    ),
]


def check_slug(value: str, what: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"{what} {value!r} is not a valid id (use {SLUG_HINT})")
    return value


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> str:
    """An IANA zone name, or ValueError with the closest names."""
    if name in _zone_names():
        return name
    close = difflib.get_close_matches(name, sorted(_zone_names()), n=1, cutoff=0.6)
    lowered = {z.lower(): z for z in _zone_names()}
    if name.lower() in lowered:
        close = [lowered[name.lower()]]
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"unknown timezone {name!r} ("
        + (hint + " " if hint else "")
        + "use an IANA name such as 'Europe/Berlin' or 'America/New_York')"
    )


def check_holiday_region(region: str) -> str:
    """'DE' or 'DE-BY', as the scheduler's business calendar understands them."""
    from engine.schedule.calendar import validate_region

    problem = validate_region(region)
    if problem is not None:
        raise ValueError(problem)
    return region


def split_region(region: str) -> tuple[str, str | None]:
    """'DE-BY' -> ('DE', 'BY'); 'US' -> ('US', None)."""
    country, _, subdivision = region.partition("-")
    return country, subdivision or None

"""Reading the timezone labels CRM exports carry, not only IANA names.

What real exports contain, all read here to one IANA zone name:

- IANA names in any case or with spaces: "Europe/Berlin", "america/new york";
- HubSpot-style labels, an offset then the zone: "(GMT+01:00) Europe/Berlin";
- Salesforce-style labels, a Windows-ish display name with the zone in parentheses:
  "(GMT+01:00) Central European Standard Time (Europe/Berlin)";
- Windows zone ids ("W. Europe Standard Time"), mapped with the CLDR table that `tzlocal`
  ships (the well-kept copy of unicode-org's windowsZones.xml).

A bare offset ("GMT+01:00", "UTC-5") is *not* a zone: it says nothing about daylight saving
time, so a prospect whose label is only an offset would drift by an hour twice a year. Such a
label is refused with a hint, and the country/region inference gets its chance instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from engine.schedule import zones

_OFFSET_PREFIX = re.compile(
    r"^\s*\(?\s*(?:GMT|UTC)\s*(?:[+-−]\s*\d{1,2}(?::?\d{2})?)?\s*\)?\s*", re.I
)
_BARE_OFFSET = re.compile(r"^\s*\(?\s*(?:GMT|UTC)?\s*[+-−]\s*\d{1,2}(?::?\d{2})?\s*\)?\s*$", re.I)
_PARENTHESISED = re.compile(r"\(([^()]+)\)")
# The display names Windows and Rails-era CRMs use for North American zones, which are
# neither IANA names nor Windows ids ("(UTC-05:00) Eastern Time (US & Canada)").
_DISPLAY_NAMES = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "pacific time (us & canada)": "America/Los_Angeles",
    "atlantic time (canada)": "America/Halifax",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "arizona": "America/Phoenix",
    "newfoundland": "America/St_Johns",
}


@dataclass(frozen=True, slots=True)
class ZoneLabel:
    """A label read as an IANA zone, and how (for `prospect show` and `explain`)."""

    zone: str
    how: str  # "IANA name", "zone label", "Windows zone"


@lru_cache(maxsize=1)
def _windows_zones() -> dict[str, str]:
    from tzlocal.windows_tz import win_tz  # CLDR windowsZones, as data

    return {name.lower(): zone for name, zone in win_tz.items()}


def is_bare_offset(text: str) -> bool:
    return bool(_BARE_OFFSET.match(text)) and any(ch.isdigit() for ch in text)


def read(text: str) -> ZoneLabel | None:
    """The IANA zone a label names, or None when it names none (see module doc)."""
    value = " ".join(text.split()).replace("_slash_", "/")  # HubSpot's internal value
    if not value or is_bare_offset(value):
        return None
    exact = zones.timezone_name(value)
    if exact is not None:
        return ZoneLabel(exact, "IANA name")
    # "(GMT+01:00) … (Europe/Berlin)": an IANA name inside parentheses wins.
    for inner in reversed(_PARENTHESISED.findall(value)):
        named = zones.timezone_name(inner)
        if named is not None and "/" in named:
            return ZoneLabel(named, "zone label")
    rest = _OFFSET_PREFIX.sub("", value, count=1).strip()
    if rest.lower() in _DISPLAY_NAMES:
        return ZoneLabel(_DISPLAY_NAMES[rest.lower()], "zone label")
    rest = _PARENTHESISED.sub("", rest).strip() or rest
    if rest and rest != value:
        named = zones.timezone_name(rest)
        if named is not None:
            return ZoneLabel(named, "zone label")
    windows = _windows_zones().get(rest.lower()) or _windows_zones().get(value.lower())
    if windows is not None:
        return ZoneLabel(windows, "Windows zone")
    return None

"""Region names and codes, read as ISO 3166-2 subdivisions ("Bavaria", "Bayern", "BY" → DE-BY).

CRM exports carry states and provinces as whatever a person typed: the code ("BY", "DE-BY",
"CA"), the official name ("Bayern", "Baden-Württemberg"), the English name ("Bavaria"), with
or without accents. The official names and codes come from ISO 3166-2 via `pycountry`, the
local spellings from the `holidays` package's subdivision aliases; English exonyms that
neither lists are a short table below (only where the English name differs from the
official one). Comparison ignores case, accents, spaces and punctuation.

Only first-level subdivisions count (states, Länder, provinces, regions): a holiday
calendar and a time zone follow them, not counties or districts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import holidays
import pycountry

# English names that are neither the ISO 3166-2 name nor a `holidays` alias.
_EXONYMS: dict[str, dict[str, str]] = {
    "DE": {
        "Bavaria": "BY",
        "Lower Saxony": "NI",
        "North Rhine-Westphalia": "NW",
        "North Rhine Westphalia": "NW",
        "Rhineland-Palatinate": "RP",
        "Saxony": "SN",
        "Saxony-Anhalt": "ST",
        "Thuringia": "TH",
        "Hesse": "HE",
        "Mecklenburg-Western Pomerania": "MV",
        "Mecklenburg-West Pomerania": "MV",
        "Baden-Wuerttemberg": "BW",
    },
    "AT": {
        "Vienna": "9",
        "Lower Austria": "3",
        "Upper Austria": "4",
        "Styria": "6",
        "Carinthia": "2",
        "Tyrol": "7",
    },
    "CH": {"Zurich": "ZH", "Geneva": "GE", "Berne": "BE", "Lucerne": "LU", "Grisons": "GR"},
    "IT": {
        "Lombardy": "25",
        "Piedmont": "21",
        "Tuscany": "52",
        "Sicily": "82",
        "Sardinia": "88",
        "Apulia": "75",
        "Aosta Valley": "23",
    },
    "ES": {
        "Catalonia": "CT",
        "Andalusia": "AN",
        "Basque Country": "PV",
        "Balearic Islands": "IB",
        "Canary Islands": "CN",
        "Castile and Leon": "CL",
        "Castile-La Mancha": "CM",
        "Valencian Community": "VC",
        "Community of Madrid": "MD",
        "Madrid": "MD",
        "Navarre": "NC",
    },
    "BE": {"Flanders": "VLG", "Wallonia": "WAL", "Brussels": "BRU"},
}


@dataclass(frozen=True, slots=True)
class Region:
    """A first-level subdivision: `code` is ISO 3166-2 ("DE-BY"), `short` its part ("BY")."""

    code: str
    name: str

    @property
    def country(self) -> str:
        return self.code.split("-", 1)[0]

    @property
    def short(self) -> str:
        return self.code.split("-", 1)[1]


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


@lru_cache(maxsize=256)
def _index(country: str) -> dict[str, Region]:
    """Every spelling of `country`'s first-level subdivisions, keyed by `_key`."""
    found: dict[str, Region] = {}
    subdivisions = pycountry.subdivisions.get(country_code=country) or []  # type: ignore[no-untyped-call]
    by_code: dict[str, Region] = {}
    for sub in subdivisions:
        if getattr(sub, "parent_code", None):
            continue  # a county or province inside a region: not what calendars follow
        region = Region(sub.code, sub.name)
        by_code[sub.code.split("-", 1)[1].upper()] = region
        found.setdefault(_key(sub.name), region)
        found.setdefault(_key(sub.code), region)
    for short, region in by_code.items():
        found.setdefault(_key(short), region)
    cls = getattr(holidays, country, None)  # the package names its calendars by ISO code
    aliases = {**(getattr(cls, "subdivisions_aliases", None) or {}), **_EXONYMS.get(country, {})}
    for alias, short in aliases.items():
        hit = by_code.get(str(short).upper())
        if hit is not None:
            found.setdefault(_key(alias), hit)
    return found


def read(country: str | None, text: str) -> Region | None:
    """The subdivision `text` names in `country` (or in the country a "DE-BY" code names)."""
    value = text.strip()
    if not value:
        return None
    prefix, dash, rest = value.partition("-")
    if dash and len(prefix) == 2 and prefix.isalpha() and rest:
        hit = _index(prefix.upper()).get(_key(rest)) or _index(prefix.upper()).get(_key(value))
        if hit is not None and (country is None or country.upper() == hit.country):
            return hit
    if country is None:
        return None
    return _index(country.upper()).get(_key(value))


def names(country: str, limit: int = 8) -> list[str]:
    """A few codes of `country`'s subdivisions, for an error message's hint."""
    codes = sorted({r.code for r in _index(country.upper()).values()})
    return codes[:limit]

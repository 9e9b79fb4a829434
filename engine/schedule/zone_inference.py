"""A prospect's time zone when the export gives none: from country, region and city.

Salesforce and Pipedrive exports carry no IANA zone, only where the person is. The rules, in
order, each recorded as the zone's source so `explain` and `prospect show` can say why:

1. a country with one zone in the tz database (Germany but for Büsingen, France, Japan…)
   → that zone (source "country");
2. a region that decides the zone (US states, Canadian provinces, Australian states,
   Mexican and Brazilian states where one zone covers them) → that zone ("region");
3. a city that is a zone's own city in that country ("Chicago" in the US) → that zone ("city");
4. a country whose zones the tz database marks as "most of …" / "(mainland)" for one of them
   (Spain, Portugal, Chile, New Zealand…) → that zone ("country, main zone");
5. otherwise nothing: the caller keeps the sequence's fallback and warns.

Where a US state spans two zones, the zone of most of its people is used (Florida → New
York, Texas → Chicago, Indiana → Indianapolis…), as the source says.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from engine.schedule.zone_table import COUNTRY_ZONES


def _each(country: str, codes: str, zone: str) -> dict[str, str]:
    return {f"{country}-{code}": zone for code in codes.split()}


# Region (ISO 3166-2 code) → zone, where the region decides it.
_REGION_ZONES: dict[str, str] = {
    **_each(
        "US", "CT DE DC FL GA ME MD MA NH NJ NY NC OH PA RI SC VT VA WV KY", "America/New_York"
    ),
    **_each("US", "AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI", "America/Chicago"),
    **_each("US", "CO MT NM UT WY", "America/Denver"),
    **_each("US", "CA NV OR WA", "America/Los_Angeles"),
    "US-AZ": "America/Phoenix",
    "US-ID": "America/Boise",
    "US-IN": "America/Indiana/Indianapolis",
    "US-MI": "America/Detroit",
    "US-AK": "America/Anchorage",
    "US-HI": "Pacific/Honolulu",
    "US-PR": "America/Puerto_Rico",
    "US-GU": "Pacific/Guam",
    "US-VI": "America/St_Thomas",
    "US-AS": "Pacific/Pago_Pago",
    "US-MP": "Pacific/Saipan",
    "CA-AB": "America/Edmonton",
    "CA-BC": "America/Vancouver",
    "CA-MB": "America/Winnipeg",
    "CA-NB": "America/Moncton",
    "CA-NL": "America/St_Johns",
    "CA-NS": "America/Halifax",
    "CA-PE": "America/Halifax",
    "CA-NT": "America/Edmonton",
    "CA-NU": "America/Iqaluit",
    "CA-ON": "America/Toronto",
    "CA-QC": "America/Toronto",
    "CA-SK": "America/Regina",
    "CA-YT": "America/Whitehorse",
    "AU-ACT": "Australia/Sydney",
    "AU-NSW": "Australia/Sydney",
    "AU-NT": "Australia/Darwin",
    "AU-QLD": "Australia/Brisbane",
    "AU-SA": "Australia/Adelaide",
    "AU-TAS": "Australia/Hobart",
    "AU-VIC": "Australia/Melbourne",
    "AU-WA": "Australia/Perth",
    **_each("BR", "GO DF MG ES RJ SP PR SC RS", "America/Sao_Paulo"),
    **_each("BR", "MA PI CE RN PB", "America/Fortaleza"),
    "BR-PE": "America/Recife",
    "BR-BA": "America/Bahia",
    "BR-AL": "America/Maceio",
    "BR-SE": "America/Maceio",
    "BR-TO": "America/Araguaina",
    "BR-MS": "America/Campo_Grande",
    "BR-MT": "America/Cuiaba",
    "BR-RO": "America/Porto_Velho",
    "BR-RR": "America/Boa_Vista",
    "BR-AC": "America/Rio_Branco",
    "BR-AP": "America/Belem",
    "MX-ROO": "America/Cancun",
    "MX-YUC": "America/Merida",
    "MX-CAM": "America/Merida",
    "MX-BCN": "America/Tijuana",
    "MX-SON": "America/Hermosillo",
    "MX-CHH": "America/Chihuahua",
    "MX-SIN": "America/Mazatlan",
    "MX-BCS": "America/Mazatlan",
    "MX-NLE": "America/Monterrey",
    "MX-CMX": "America/Mexico_City",
    "MX-JAL": "America/Mexico_City",
    "MX-MEX": "America/Mexico_City",
    "ES-CN": "Atlantic/Canary",
}
_MAIN = re.compile(r"\bmost of\b|\(mainland\)", re.I)


@dataclass(frozen=True, slots=True)
class InferredZone:
    zone: str
    source: str  # "country", "region", "city", "country, main zone"


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


def infer(
    country: str | None, region: str | None = None, city: str | None = None
) -> InferredZone | None:
    """The zone for a person in `country` (ISO alpha-2), `region` (ISO 3166-2), `city`."""
    if not country:
        return None
    zones = COUNTRY_ZONES.get(country.upper())
    if not zones:
        return None
    if len(zones) == 1:
        return InferredZone(zones[0][0], "country")
    if region:
        code = region.upper() if "-" in region else f"{country.upper()}-{region.upper()}"
        if code in _REGION_ZONES:
            return InferredZone(_REGION_ZONES[code], "region")
    if city:
        wanted = _key(city)
        for zone, _comment in zones:
            if wanted and _key(zone.rsplit("/", 1)[-1]) == wanted:
                return InferredZone(zone, "city")
    main = [zone for zone, comment in zones if _MAIN.search(comment)]
    if len(main) == 1:
        return InferredZone(main[0], "country, main zone")
    return None


def zone_count(country: str) -> int:
    return len(COUNTRY_ZONES.get(country.upper(), ()))

"""Which CSV column is which prospect field: CRM export headers, `--map`, custom fields.

Headers are compared after `header_key` (lower-case letters and digits only), so
"First Name", "firstName", "first_name" and "Person - First name" all match one alias.
Countries and timezones are cleaned here too; both are pure functions (no I/O).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.errors import InvalidInput
from engine.people.countries import COUNTRY_ALIASES, COUNTRY_NAMES

# The prospect columns stored as their own columns, in CSV order (import, API bulk import,
# simulate). Everything else an import reads goes to `custom`.
PROSPECT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "phone",
    "timezone",
    "country",
    "region",
    "owner",
)
# What a CSV header can map to: the columns, plus a full name split into first/last when
# those columns are absent.
FIELDS = (*PROSPECT_COLUMNS, "full_name")

# Header spellings of HubSpot, Salesforce, Pipedrive, Apollo, lemlist, Close, German Excel.
_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "emailaddress",
        "mail",
        "email1",
        "workemail",
        "businessemail",
        "contactemail",
        "primaryemail",
        "personemail",
        "personemailwork",
        "emailadresse",
        "emailwork",
    ),
    "first_name": (
        "firstname",
        "first",
        "givenname",
        "personfirstname",
        "vorname",
        "prenom",
        "contactfirstname",
    ),
    "last_name": (
        "lastname",
        "last",
        "surname",
        "familyname",
        "personlastname",
        "nachname",
        "nom",
        "contactlastname",
    ),
    "company": (
        "company",
        "companyname",
        "accountname",
        "account",
        "organization",
        "organisation",
        "organizationname",
        "organisationname",
        "firma",
        "unternehmen",
        "firmenname",
        "employer",
    ),
    "title": (
        "title",
        "jobtitle",
        "position",
        "role",
        "personjobtitle",
        "titel",
        "funktion",
        "berufsbezeichnung",
    ),
    "phone": (
        "phone",
        "phonenumber",
        "mobile",
        "mobilephone",
        "mobilephonenumber",
        "telephone",
        "workphone",
        "directphone",
        "corporatephone",
        "personphone",
        "personphonework",
        "telefon",
        "telefonnummer",
        "mobil",
        "handy",
    ),
    "timezone": ("timezone", "tz", "zeitzone", "persontimezone"),
    "country": (
        "country",
        "countryregion",
        "mailingcountry",
        "billingcountry",
        "personcountry",
        "land",
        "addresscountry",
        "organizationaddresscountry",  # Pipedrive
        "personaddresscountry",
    ),
    "region": (
        "state",
        "region",
        "stateregion",
        "stateprovince",
        "mailingstate",
        "mailingstateprovince",
        "bundesland",
        "province",
        "addressstate",
        "addressstatecounty",
        "organizationaddressstatecounty",  # Pipedrive
        "personaddressstatecounty",
    ),
    "owner": ("owner", "contactowner", "ownername", "personowner", "leadowner"),
    "full_name": ("name", "fullname", "contactname", "personname", "contact"),
}
ALIASES: dict[str, str] = {alias: field for field, names in _ALIASES.items() for alias in names}

IGNORE = "-"  # `--map "Notes=-"` drops a column


def header_key(header: str) -> str:
    """Lower-case ASCII letters and digits only: the form headers are compared in."""
    folded = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def snake_case(header: str) -> str:
    """A custom field name for an unknown column: "Lead Source" -> "lead_source"."""
    folded = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    folded = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", folded)  # camelCase
    name = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    return name or "column"


@dataclass(frozen=True, slots=True)
class Target:
    """Where one column goes: a prospect field, a custom field, or nowhere."""

    field: str | None  # one of FIELDS, or None
    custom: str | None = None  # custom field name when field is None

    def describe(self) -> str:
        if self.field:
            return self.field
        return f"custom.{self.custom}" if self.custom else "(ignored)"


def parse_map(text: str | None) -> dict[str, str]:
    """`--map "Email Address=email,Firma=company"` -> {header_key: target}; refuses bad pairs."""
    result: dict[str, str] = {}
    if not text:
        return result
    for pair in text.split(","):
        if not pair.strip():
            continue
        header, sep, target = pair.partition("=")
        header, target = header.strip(), target.strip()
        if not sep or not header or not target:
            raise InvalidInput(
                f"--map: {pair.strip()!r} is not COLUMN=FIELD "
                '(write e.g. --map "Email Address=email,Firma=company")'
            )
        if target != IGNORE and target not in FIELDS and not target.startswith("custom."):
            raise InvalidInput(
                f"--map: {target!r} is not a prospect field "
                f"(use one of {', '.join(FIELDS)}, custom.NAME, or - to ignore the column)"
            )
        result[header_key(header)] = target
    return result


def map_headers(headers: Iterable[str], overrides: Mapping[str, str]) -> list[Target]:
    """A Target per column. `--map` wins, then aliases; a field is only filled once."""
    taken: set[str] = set()
    customs: set[str] = set()
    targets: list[Target] = []
    for header in headers:
        key = header_key(header)
        wanted = overrides.get(key)
        if wanted == IGNORE:
            targets.append(Target(None))
            continue
        if wanted is not None and wanted.startswith("custom."):
            name = snake_case(wanted.removeprefix("custom."))
            customs.add(name)
            targets.append(Target(None, name))
            continue
        field = wanted or ALIASES.get(key)
        if field is not None and field not in taken:
            taken.add(field)
            targets.append(Target(field))
            continue
        name = snake_case(header)
        while name in customs:
            name += "_2"
        customs.add(name)
        targets.append(Target(None, name))
    return targets


def unused_overrides(headers: Iterable[str], overrides: Mapping[str, str]) -> list[str]:
    """`--map` columns that match no header: almost always a typo worth refusing."""
    keys = {header_key(h) for h in headers}
    return [k for k in overrides if k not in keys]


def _country_key(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


_NAME_TO_CODE = {_country_key(name): code for code, name in COUNTRY_NAMES.items()}


def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for "DE", "de", "Germany", "Deutschland"…; None when unknown."""
    text = value.strip()
    if len(text) == 2 and text.upper() in COUNTRY_NAMES:
        return text.upper()
    key = _country_key(text)
    return COUNTRY_ALIASES.get(key) or _NAME_TO_CODE.get(key)

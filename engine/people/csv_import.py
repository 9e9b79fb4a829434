"""Reading a prospect CSV: encoding, delimiter, header mapping and per-row cleaning.

Nothing here touches the database; `engine.people.prospects` writes what this yields.

Encoding rule (documented in docs/prospects.md): UTF-8 (with or without BOM) and UTF-16 with
a BOM are read as such. A file that is not valid UTF-8 anywhere but has non-ASCII bytes is
read as Windows-1252 (what Excel on Windows writes) and the report says so. A file that is
mostly UTF-8 with a few rows that are not gets those rows refused, one by one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core import addresses
from engine.errors import InvalidInput, NotFound
from engine.people import field_map
from engine.people.field_map import Target
from engine.schedule import regions, zone_inference, zone_labels

DELIMITERS = (",", ";", "\t", "|")
_STRAY = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by surrogateescape
# An unquoted ASCII local part (RFC 5322 dot-atom): email-validator accepts it unchanged.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_FIELD_LIMITS = {
    "first_name": 200,
    "last_name": 200,
    "company": 255,
    "title": 255,
    "phone": 64,
    "owner": 200,
}


class AddressCache:
    """`addresses.normalise` with the domain half validated once per domain.

    email-validator's domain checks (IDNA, special-use names) are most of an import's CPU
    time, and a file repeats a few thousand company domains. A plain ASCII local part is
    accepted unchanged by email-validator, so only the domain needs it; anything unusual
    (quoted, non-ASCII, long, `--check-dns`) takes the full path. Tested to agree.
    """

    def __init__(self, *, check_dns: bool = False) -> None:
        self.check_dns = check_dns
        self._domains: dict[str, str | None] = {}  # as written -> normalised, None if invalid

    def normalise(self, raw: str) -> addresses.Address:
        text = (raw or "").strip()
        if self.check_dns or len(text) > 254 or not text.isascii():
            return addresses.normalise(text, check_dns=self.check_dns)
        local, at, domain = text.rpartition("@")
        if not at or len(local) > 64 or not _DOT_ATOM.match(local):
            return addresses.normalise(text)
        if domain not in self._domains:
            try:
                self._domains[domain] = addresses.normalise("x@" + domain).domain
            except addresses.InvalidAddress:
                self._domains[domain] = None
        normalised = self._domains[domain]
        if normalised is None:
            return addresses.normalise(text)  # raises, with email-validator's own message
        email = f"{local}@{normalised}"
        return addresses.Address(email=email, key=email.lower())


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem with one row: `row` counts lines as an editor does (header = 1)."""

    row: int
    column: str | None
    message: str
    fix: str = ""
    severity: str = "error"  # error: the row was not imported; warning: imported without it

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        tail = f" (fix: {self.fix})" if self.fix else ""
        return f"{where}: {self.message}{tail}"


@dataclass(slots=True)
class CleanRow:
    """A row ready to upsert: normalised email, known fields, custom fields."""

    row: int
    email: str
    email_key: str
    values: dict[str, str] = field(default_factory=dict)  # first_name, company, country…
    custom: dict[str, Any] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.email_key.rsplit("@", 1)[1]


@dataclass(slots=True)
class CsvSource:
    """An opened CSV: its text, how it was decoded, and its header mapping."""

    path: Path
    text: str
    encoding: str
    delimiter: str
    headers: list[str]
    targets: list[Target]
    notices: list[str] = field(default_factory=list)
    stray_bytes: bool = False  # a UTF-8 file with some undecodable bytes (kept as surrogates)

    @property
    def mapping(self) -> list[tuple[str, str]]:
        return [(h, t.describe()) for h, t in zip(self.headers, self.targets, strict=True)]


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """(text, encoding, notices). Undecodable bytes of a UTF-8 file survive as surrogates."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16", []
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8-sig", errors="surrogateescape")
    has_utf8 = re.search("[^\x00-\x7f\udc80-\udcff]", text) is not None
    if has_utf8:
        # Mostly UTF-8: keep it, and refuse the rows that carry stray bytes.
        return text, "utf-8", []
    try:
        decoded, name = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        decoded, name = data.decode("latin-1"), "latin-1"
    notice = (
        f"the file is not UTF-8; it was read as {name} (Windows-1252, what Excel on Windows "
        "saves). If names look wrong, convert it first: "
        "iconv -f ISO-8859-15 -t UTF-8 FILE.csv > FILE-utf8.csv"
    )
    return decoded, name, [notice]


def sniff_delimiter(header_line: str) -> str:
    """The delimiter the header uses most: comma, semicolon (German Excel), tab or pipe."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_csv(path: Path, overrides: dict[str, str]) -> CsvSource:
    """Read and decode a file and map its header; a file-level problem is an InvalidInput."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file (check the path)") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory, not a CSV file") from None
    text, encoding, notices = decode(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    if not first_line:
        raise InvalidInput(f"{path}: the file is empty (export it again with a header row)")
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = [h.strip() for h in next(reader)]
    unused = field_map.unused_overrides(headers, overrides)
    if unused:
        raise InvalidInput(
            f"{path}: --map names column(s) {', '.join(unused)} that the header does not have "
            f"(the header is: {', '.join(headers)})"
        )
    targets = field_map.map_headers(headers, overrides)
    if not any(t.field == "email" for t in targets):
        raise InvalidInput(
            f"{path}:1: no email column among {', '.join(repr(h) for h in headers)} "
            '(name it "email", or map it: --map "Your Column=email")'
        )
    stray = encoding == "utf-8" and _STRAY.search(text) is not None
    return CsvSource(path, text, encoding, delimiter, headers, targets, notices, stray)


def iter_records(source: CsvSource) -> Iterator[tuple[int, list[str]]]:
    """(row number of the record's first line, fields), skipping the header and blank lines."""
    reader = csv.reader(io.StringIO(source.text, newline=""), delimiter=source.delimiter)
    next(reader, None)
    last_line = reader.line_num
    for record in reader:
        start = last_line + 1
        last_line = reader.line_num
        if not any(value.strip() for value in record):
            continue
        yield start, record


def clean(
    source: CsvSource, row: int, record: list[str], *, cache: AddressCache | None = None
) -> tuple[CleanRow | None, list[RowIssue]]:
    """Validate one record. Returns the clean row (None if refused) and its issues."""
    headers, targets = source.headers, source.targets
    issues: list[RowIssue] = []
    if len(record) > len(headers) and any(v.strip() for v in record[len(headers) :]):
        return None, [
            RowIssue(
                row,
                None,
                f"{len(record)} values but the header has {len(headers)} columns",
                f"quote values that contain {source.delimiter!r}, or remove the extra values",
            )
        ]
    for header, value in zip(headers, record, strict=False) if source.stray_bytes else ():
        if _STRAY.search(value):
            return None, [
                RowIssue(
                    row,
                    header,
                    "is not valid UTF-8 (the rest of the file is)",
                    "retype the value or re-export the file as UTF-8",
                )
            ]
    values: dict[str, str] = {}
    custom: dict[str, Any] = {}
    email_header = "email"
    for header, target, raw in zip(headers, targets, record, strict=False):
        value = raw.strip()
        if not value:
            continue
        if "\x00" in value:
            issues.append(RowIssue(row, header, "contains a NUL byte; ignored", "", "warning"))
            continue
        if target.field == "email":
            email_header = header
            values["email"] = value
        elif target.field == "timezone":
            _zone_field(value, row, header, issues, values)
        elif target.field is not None:
            cleaned = _clean_field(target.field, value, row, header, issues)
            if cleaned is not None:
                values[target.field] = cleaned
        elif target.custom:
            custom[target.custom] = value
    full_name = values.pop("full_name", None)
    if full_name and "first_name" not in values and "last_name" not in values:
        first, _, last = full_name.partition(" ")
        values["first_name"] = first
        if last:
            values["last_name"] = last
    raw_email = values.pop("email", "")
    if not raw_email:
        email_header = next(h for h, t in zip(headers, targets, strict=True) if t.field == "email")
        issues.append(
            RowIssue(row, email_header, "the email is empty", "fill it in or delete the row")
        )
        return None, issues
    try:
        address = (cache or AddressCache()).normalise(raw_email)
    except addresses.InvalidAddress as exc:
        issues.append(
            RowIssue(
                row,
                email_header,
                f"{raw_email!r} is not a valid email: {exc}",
                "fix the address or delete the row",
            )
        )
        return None, issues
    _place(values, custom, row, headers, targets, issues)
    return CleanRow(row, address.email, address.key, values, custom), issues


def _clean_field(
    name: str, value: str, row: int, header: str, issues: list[RowIssue]
) -> str | None:
    """One known field's value, or None (with a warning) when it cannot be kept."""
    # Header injection guard: these values reach templates and may reach headers.
    value = " ".join(value.split())
    if name == "country":
        code = field_map.country_code(value)
        if code is None:
            issues.append(
                RowIssue(
                    row,
                    header,
                    f"{value!r} is not a country we know; imported without a country",
                    "use an ISO code such as DE, AT, US",
                    "warning",
                )
            )
        return code
    limit = _FIELD_LIMITS.get(name)
    if limit is not None and len(value) > limit:
        issues.append(
            RowIssue(
                row,
                header,
                f"longer than {limit} characters; cut to {limit}",
                "",
                "warning",
            )
        )
        value = value[:limit]
    return value


INFERRED = "inferred from "  # how an inferred zone's source starts (vs "Timezone column")

# A city column (any header ending in "city", or the German/French/Spanish word), kept as a
# custom field; it only decides a time zone where the country has several.
_CITY = re.compile(r"(^|_)city(_town)?$|^(ort|stadt|ville|ciudad|citta)$")


def _zone_field(
    value: str, row: int, header: str, issues: list[RowIssue], values: dict[str, str]
) -> None:
    """A timezone column: IANA names, HubSpot/Salesforce labels, Windows zone names."""
    label = zone_labels.read(value)
    if label is None:
        offset = zone_labels.is_bare_offset(value)
        issues.append(
            RowIssue(
                row,
                header,
                f"{value!r} is "
                + (
                    "only a UTC offset (it does not say when clocks change)"
                    if offset
                    else "not a timezone we know"
                )
                + "; imported without one, so the country and region decide",
                "use a name such as Europe/Berlin or America/New_York",
                "warning",
            )
        )
        return
    values["timezone"] = label.zone
    values["timezone_source"] = (
        f"{header} column" if label.how == "IANA name" else f"{header} column ({label.how})"
    )


def _place(
    values: dict[str, str],
    custom: dict[str, Any],
    row: int,
    headers: list[str],
    targets: list[Target],
    issues: list[RowIssue],
) -> None:
    """Region to ISO 3166-2, then a zone from country/region/city when none was given."""
    country = values.get("country")
    raw_region = values.pop("region", None)
    region = None
    if raw_region:
        region = regions.read(country, raw_region)
        header = next(h for h, t in zip(headers, targets, strict=False) if t.field == "region")
        if region is None:
            where = f"of {country}" if country else "(the row has no country)"
            hint = ", ".join(regions.names(country, 4)) if country else "DE-BY, US-CA"
            issues.append(
                RowIssue(
                    row,
                    header,
                    f"{raw_region!r} is not a region {where} we know; imported without a region",
                    f"use an ISO 3166-2 code or name, e.g. {hint}",
                    "warning",
                )
            )
        else:
            values.setdefault("country", region.country)
            country = region.country
            values["region"] = region.short
    if "timezone" in values or not country:
        return
    city = next((str(v) for k, v in custom.items() if _CITY.search(k) and v), None)
    guess = zone_inference.infer(country, region.code if region else None, city)
    if guess is not None:
        values["timezone"] = guess.zone
        values["timezone_source"] = (
            INFERRED
            + {
                "country": f"country {country}",
                "region": f"region {region.code if region else ''}",
                "city": f"city {city}, {country}",
                "country, main zone": f"the main zone of {country}",
            }[guess.source]
        )
        return
    if zone_inference.zone_count(country) > 1:
        issues.append(
            RowIssue(
                row,
                None,
                f"{country} has several time zones and the row says no region or city; "
                "imported without a timezone (the sequence's fallback applies)",
                "add a timezone, state/region or city column",
                "warning",
            )
        )

"""Exports shaped like HubSpot's, Salesforce's and Pipedrive's: zone, region and their source.

Salesforce and Pipedrive carry no IANA zone, only where the person is; HubSpot carries a
"(GMT+01:00) Europe/Berlin" label. Every prospect gets the right zone and ISO 3166-2 region,
or a row warning saying what could not be resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.people import prospects
from engine.store.db import Database
from engine.store.models import Prospect

WriteCsv = Callable[..., Path]

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Company Name,Contact owner,Country/Region,"
    "State/Region,City,Time Zone\n"
    "101,Erik,Lund,erik@nordic.example,Nordic,Maria Lopez,Germany,Bavaria,Munich,"
    "(GMT+01:00) Europe/Berlin\n"
    "102,Jane,Doe,jane@gotham.example,Gotham,Maria Lopez,United States,New York,New York,"
    "(GMT-05:00) America/New_York\n"
    "103,Pat,Kim,pat@offset.example,Offset,Tom,United States,California,,GMT-08:00\n"
)
SALESFORCE = (
    "First Name,Last Name,Title,Account Name,Email,Mailing City,Mailing State/Province,"
    "Mailing Country,Contact Owner\n"
    "Lena,Huber,CTO,Alpen AG,lena@alpen.example,München,Bayern,Deutschland,Maria Lopez\n"
    "Sam,Reed,CEO,Lone Star,sam@lonestar.example,Austin,TX,USA,Tom\n"
    "Ana,Ruiz,CFO,Sol,ana@sol.example,Madrid,,Spain,Tom\n"
    "Ivan,Petrov,COO,Volga,ivan@volga.example,,,Russia,Tom\n"
    "Zoe,Park,VP,Atlantis,zoe@atl.example,,Atlantis,Germany,Tom\n"
)
PIPEDRIVE = (
    "Person - Name,Person - Email - Work,Organization - Name,Person - Owner,"
    "Organization - Address - Country,Organization - Address - State/County,"
    "Organization - Address - City/town\n"
    "Noah Smith,noah@windy.example,Windy,Maria Lopez,United States,,Chicago\n"
    "Mia Brown,mia@harbour.example,Harbour,Tom,Australia,NSW,Sydney\n"
    "Leo Roy,leo@maple.example,Maple,Tom,Canada,Quebec,Montréal\n"
)


def _imported(db: Database, clock: VirtualClock, path: Path) -> tuple[dict[str, Prospect], list]:
    report = prospects.import_csv(db, path, clock=clock)
    assert not report.refused, report.refused
    with db.session() as s:
        rows = {p.email_key: p for p in s.scalars(select(Prospect))}
    return rows, report.warnings


def _placed(p: Prospect) -> tuple[str | None, str | None, str | None, str | None]:
    return p.timezone, p.timezone_source, p.country, p.region


def test_hubspot_zone_labels_are_read_and_offsets_refused(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    rows, warnings = _imported(db, clock, write_csv(HUBSPOT))
    assert _placed(rows["erik@nordic.example"]) == (
        "Europe/Berlin",
        "Time Zone column (zone label)",
        "DE",
        "BY",
    )
    assert _placed(rows["jane@gotham.example"]) == (
        "America/New_York",
        "Time Zone column (zone label)",
        "US",
        "NY",
    )
    # A bare offset is no zone; the state decides instead, and the row says so.
    assert _placed(rows["pat@offset.example"]) == (
        "America/Los_Angeles",
        "inferred from region US-CA",
        "US",
        "CA",
    )
    assert [(w.row, w.column) for w in warnings] == [(4, "Time Zone")]
    assert "only a UTC offset" in warnings[0].message


def test_salesforce_zones_come_from_country_and_state(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    rows, warnings = _imported(db, clock, write_csv(SALESFORCE))
    assert _placed(rows["lena@alpen.example"]) == (
        "Europe/Berlin",
        "inferred from the main zone of DE",
        "DE",
        "BY",
    )
    assert _placed(rows["sam@lonestar.example"]) == (
        "America/Chicago",
        "inferred from region US-TX",
        "US",
        "TX",
    )
    assert _placed(rows["ana@sol.example"]) == (
        "Europe/Madrid",
        "inferred from city Madrid, ES",
        "ES",
        None,
    )
    # Russia has eleven zones and the row says nothing more: no guess, a warning.
    assert _placed(rows["ivan@volga.example"]) == (None, None, "RU", None)
    # An unknown region is dropped with a warning, never stored as "ATLANTIS".
    assert rows["zoe@atl.example"].region is None
    assert rows["zoe@atl.example"].timezone == "Europe/Berlin"
    by_row = {w.row: w for w in warnings}
    assert set(by_row) == {5, 6}
    assert "several time zones" in by_row[5].message
    assert "'Atlantis' is not a region of DE" in by_row[6].message


def test_pipedrive_zones_come_from_city_or_region(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    rows, warnings = _imported(db, clock, write_csv(PIPEDRIVE))
    assert _placed(rows["noah@windy.example"]) == (
        "America/Chicago",
        "inferred from city Chicago, US",
        "US",
        None,
    )
    assert _placed(rows["mia@harbour.example"]) == (
        "Australia/Sydney",
        "inferred from region AU-NSW",
        "AU",
        "NSW",
    )
    assert _placed(rows["leo@maple.example"]) == (
        "America/Toronto",
        "inferred from region CA-QC",
        "CA",
        "QC",
    )
    assert warnings == []


def test_a_given_zone_is_never_replaced_by_a_guess(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    given = write_csv("Email,Country,Time Zone\nkai@kiel.example,Germany,Europe/Busingen\n")
    guessed = write_csv("Email,Country\nkai@kiel.example,Germany\n", name="again.csv")
    _imported(db, clock, given)
    rows, _ = _imported(db, clock, guessed)
    assert _placed(rows["kai@kiel.example"])[:2] == ("Europe/Busingen", "Time Zone column")


def test_prospect_show_says_where_the_zone_came_from(
    db: Database, clock: VirtualClock, write_csv: WriteCsv, cli: Callable[..., Any]
) -> None:
    prospects.import_csv(db, write_csv(SALESFORCE), clock=clock)
    result = cli("prospect", "show", "sam@lonestar.example")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "America/Chicago (inferred from region US-TX)" in flat
    assert "US-TX" in flat and "Tom" in flat

"""CSV import on SQLite and PostgreSQL: bad rows reported, good rows upserted, idempotent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.people import prospects
from engine.store.db import Database
from engine.store.models import Account, Event, Prospect

WriteCsv = Callable[..., Path]

MESSY = (
    "Email,First Name,Last Name,Company Name,Country/Region,Time Zone,Lead Source\n"
    "Erik@Acme.example,Erik,Lund,Acme,Sweden,Europe/Stockholm,Webinar\n"  # row 2
    "not-an-email,Bad,Row,X,,,\n"  # row 3: invalid
    ",No,Email,Y,,,\n"  # row 4: empty required field
    "erik@acme.example,Erik,Again,Acme,,,\n"  # row 5: duplicate of row 2
    "jo@gmail.com,Jo,Free,,Narnia,,\n"  # row 6: imported, country warning
    "ann@beta.example,Ann,Beta,Beta GmbH,DE,,Ads\n"  # row 7
)


def all_prospects(db: Database) -> dict[str, Prospect]:
    with db.session() as s:
        return {p.email_key: p for p in s.scalars(select(Prospect))}


def test_good_rows_import_and_each_bad_row_is_reported(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    report = prospects.import_csv(db, write_csv(MESSY), clock=clock)

    assert [(i.row, i.column) for i in report.refused] == [
        (3, "Email"),
        (4, "Email"),
        (5, "Email"),
    ]
    assert "must have an @-sign" in report.refused[0].message
    assert "empty" in report.refused[1].message
    assert "duplicate of row 2" in report.refused[2].message
    assert [(w.row, w.column) for w in report.warnings] == [(6, "Country/Region")]
    assert (report.rows, report.created, report.updated) == (6, 3, 0)

    rows = all_prospects(db)
    assert set(rows) == {"erik@acme.example", "jo@gmail.com", "ann@beta.example"}
    erik = rows["erik@acme.example"]
    assert (erik.email, erik.first_name, erik.last_name) == ("Erik@acme.example", "Erik", "Lund")
    assert (erik.country, erik.timezone, erik.custom) == (
        "SE",
        "Europe/Stockholm",
        {"lead_source": "Webinar"},
    )
    assert rows["jo@gmail.com"].country is None
    with db.session() as s:
        # Accounts by company domain, never for free mail.
        assert dict(s.execute(select(Account.domain, Account.name)).all()) == {
            "acme.example": "Acme",
            "beta.example": "Beta GmbH",
        }
        assert rows["jo@gmail.com"].account_id is None
        created = s.scalars(
            select(Event.prospect_id).where(Event.type == str(EventType.PROSPECT_CREATED))
        ).all()
        assert sorted(created) == sorted(p.id for p in rows.values())


def test_reimport_is_idempotent_and_updates_only_what_changed(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    path = write_csv(MESSY)
    prospects.import_csv(db, path, clock=clock)
    again = prospects.import_csv(db, path, clock=clock)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    # Another spelling of the same person, a new title and an empty company cell.
    later = write_csv("email,title,company\nERIK@acme.EXAMPLE,CTO,\n", name="later.csv")
    report = prospects.import_csv(db, later, clock=clock, owner="anna")
    assert (report.created, report.updated) == (0, 1)
    erik = all_prospects(db)["erik@acme.example"]
    assert (erik.title, erik.company, erik.owner) == ("CTO", "Acme", "anna")
    assert erik.custom == {"lead_source": "Webinar"}  # kept
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Prospect)) == 3
        assert (
            s.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.type == str(EventType.PROSPECT_UPDATED))
            )
            == 1
        )


def test_german_semicolon_cp1252_export(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    text = (
        "E-Mail;Vorname;Nachname;Firma;Land;Branche\n"
        "juergen.mueller@mueller-bau.example;Jürgen;Müller;Müller Bau GmbH;Deutschland;Bau\n"
        "kaputt;Karl;Kaputt;Kaputt AG;Deutschland;Bau\n"
    )
    report = prospects.import_csv(db, write_csv(text, encoding="cp1252"), clock=clock)
    assert (report.encoding, report.delimiter) == ("cp1252", ";")
    assert "iconv" in report.notices[0]
    assert [(i.row, i.column) for i in report.refused] == [(3, "E-Mail")]
    p = all_prospects(db)["juergen.mueller@mueller-bau.example"]
    assert (p.first_name, p.last_name, p.company, p.country) == (
        "Jürgen",
        "Müller",
        "Müller Bau GmbH",
        "DE",
    )
    assert p.custom == {"branche": "Bau"}


def test_dry_run_writes_nothing(db: Database, clock: VirtualClock, write_csv: WriteCsv) -> None:
    report = prospects.import_csv(db, write_csv(MESSY), clock=clock, dry_run=True)
    assert (report.created, len(report.refused)) == (3, 3)
    assert all_prospects(db) == {}


class Crash(Exception):
    pass


def test_a_crash_mid_file_leaves_whole_batches_and_a_rerun_completes(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    lines = "".join(f"p{i}@acme.example,P{i}\n" for i in range(10))
    path = write_csv("email,first name\n" + lines)

    def crash_after_first_batch(done: int, total: int) -> None:
        raise Crash

    with pytest.raises(Crash):
        prospects.import_csv(db, path, clock=clock, batch_size=4, progress=crash_after_first_batch)
    assert len(all_prospects(db)) == 4
    report = prospects.import_csv(db, path, clock=clock, batch_size=4)
    assert (report.created, report.unchanged) == (6, 4)
    assert len(all_prospects(db)) == 10


def test_map_option_maps_unusual_headers(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    path = write_csv("Kontakt Mail|Unternehmen X|Notes\nann@beta.example|Beta|hi\n")
    report = prospects.import_csv(
        db, path, clock=clock, mapping="Kontakt Mail=email,Unternehmen X=company,Notes=-"
    )
    assert report.created == 1
    ann = all_prospects(db)["ann@beta.example"]
    assert (ann.company, ann.custom) == ("Beta", {})


@pytest.mark.slow
def test_twenty_thousand_rows(
    sqlite_db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    lines = "".join(
        f"person{i}@company{i % 500}.example,First{i},Co {i % 500},DE\n" for i in range(20_000)
    )
    path = write_csv("Email,First Name,Company,Country\n" + lines)
    report = prospects.import_csv(sqlite_db, path, clock=clock)
    assert (report.created, report.refused) == (20_000, [])
    with sqlite_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Prospect)) == 20_000
        assert s.scalar(select(func.count()).select_from(Account)) == 500

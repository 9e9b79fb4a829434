"""Issue 14's two claims about users, checked end to end: an SDR whose token belongs to a
user sees their own queue (API and dashboard), and `report --by owner` has one row per user
however the owner was spelled (before the user existed, by alias, by `enroll --owner`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.api.app import create_app
from engine.clock import VirtualClock
from engine.outbound.tick import tick
from engine.people import enrollment, prospects
from engine.reporting import activity, reports, rollups
from engine.settings import Settings, load_settings
from engine.store.db import Database
from engine.store.models import ApiToken, Enrollment, Task
from tests.integration.prospects.conftest import add_mailbox, add_sequence
from tests.support.web import TestClient

WriteCsv = Callable[..., Path]
CALL_FIRST = [
    {"id": "call-1", "call": {"title": "Call {{ first_name }}", "due": "0 days"}},
    {"wait": "2 days"},
]


def _token(cli: Callable[..., Any], name: str, user: str) -> str:
    made = cli("token", "create", "--name", name, "--user", user)
    assert made.exit_code == 0, made.output
    return str(made.stdout.strip().splitlines()[-1])


def test_an_sdr_whose_token_belongs_to_a_user_sees_their_own_queue(
    db: Database, clock: VirtualClock, write_csv: WriteCsv, cli: Callable[..., Any],
    tmp_path: Path,
) -> None:  # fmt: skip
    for args in (
        ("maria", "--email", "maria@acme.example", "--name", "Maria Lopez"),
        ("tom", "--email", "tom@acme.example", "--name", "Tom Berger"),
    ):
        assert cli("user", "add", *args).exit_code == 0
    csv = write_csv(
        "Email,First Name,Contact Owner\n"
        "lena@alpen.example,Lena,María López\n"  # her name, accented
        "jo@beta.example,Jo,maria@acme.example\n"  # her email
        "sam@lonestar.example,Sam,Tom Berger\n"
    )
    prospects.import_csv(db, csv, clock=clock)
    add_mailbox(db, "shared", at=clock.now())
    add_sequence(db, "calls", steps=CALL_FIRST, at=clock.now())
    with db.session() as s:
        emails = ["lena@alpen.example", "jo@beta.example", "sam@lonestar.example"]
        assert len(enrollment.enroll(s, "calls", emails, at=clock.now()).enrolled) == 3
    settings: Settings = load_settings(home=tmp_path / "home")
    assert tick(db, clock, settings).tasks_created == 3
    maria = _token(cli, "maria-laptop", "Maria Lopez")  # any spelling finds her; role sdr
    with db.session() as s:
        owners = {t.title: t.owner for t in s.scalars(select(Task))}
    assert owners == {"Call Lena": "maria", "Call Jo": "maria", "Call Sam": "tom"}

    app = create_app(db, load_settings(home=tmp_path / "web", secret_key="s" * 32), clock)
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {maria}"}
        queue = client.get("/api/v1/tasks", headers=auth)
        assert queue.status_code == 200, queue.text
        assert sorted(t["title"] for t in queue.json()["items"]) == ["Call Jo", "Call Lena"]
        # Asking for another owner's queue still shows her own.
        other = client.get("/api/v1/tasks?owner=tom", headers=auth)
        assert sorted(t["title"] for t in other.json()["items"]) == ["Call Jo", "Call Lena"]
        # The dashboard's queue, logged in with the same token.
        login = client.post("/login", data={"token": maria, "next": "/queue"})
        assert login.status_code == 200 and "Call Lena" in login.text
        assert "Call Jo" in login.text and "Call Sam" not in login.text


def _enrolled_by_owner(db: Database, **filters: Any) -> dict[str, int | None]:
    rollups.refresh_rollups(db)
    with db.session() as s:
        report = reports.build_report(s, by="owner", filters=reports.ReportFilter(**filters))
    return {row.group: row.enrolled for row in report.rows}


def test_report_by_owner_has_one_row_per_user_however_the_owner_was_spelled(
    db: Database, clock: VirtualClock, write_csv: WriteCsv, cli: Callable[..., Any]
) -> None:
    add_mailbox(db, "shared", at=clock.now())
    add_sequence(db, "calls", steps=CALL_FIRST, at=clock.now())
    # Before any user exists, owners are kept as typed: "Maria Lopez".
    prospects.import_csv(
        db, write_csv("Email,First Name,Owner\nlena@alpen.example,Lena,Maria Lopez\n"), clock=clock
    )
    with db.session() as s:
        enrollment.enroll(s, "calls", ["lena@alpen.example"], at=clock.now())
    old = cli("token", "create", "--name", "old", "--role", "sdr", "--owner", "Maria Lopez")
    assert old.exit_code == 0, old.output
    added = cli("user", "add", "maria", "--name", "Maria Lopez", "--alias", "M. Lopez")
    assert added.exit_code == 0, added.output
    # What was owned as "Maria Lopez" is hers now: her token sees it, her queue shows it.
    assert "now maria's: 1 prospect, 1 enrollment, 1 token" in added.output
    with db.session() as s:
        assert s.scalars(select(ApiToken.owner).where(ApiToken.name == "old")).one() == "maria"
        assert {e.owner for e in s.scalars(select(Enrollment))} == {"maria"}
    assert cli("user", "add", "tom", "--name", "Tom Berger").exit_code == 0
    prospects.import_csv(
        db,
        write_csv(
            "Email,First Name,Owner\n"
            "jo@beta.example,Jo,maria\n"
            "kai@gamma.example,Kai,\n"
            "sam@lonestar.example,Sam,Tom Berger\n",
            name="later.csv",
        ),
        clock=clock,
    )
    with db.session() as s:
        enrollment.enroll(s, "calls", ["jo@beta.example", "sam@lonestar.example"], at=clock.now())
    # An --owner given when enrolling is a user too, in any spelling.
    enrolled = cli("enroll", "calls", "--email", "kai@gamma.example", "--owner", "M. Lopez")
    assert enrolled.exit_code == 0, enrolled.output
    with db.session() as s:
        kai = s.scalars(select(Enrollment).order_by(Enrollment.id.desc())).first()
        assert kai is not None and kai.owner == "maria"
    unknown = cli("enroll", "calls", "--email", "kai@gamma.example", "--owner", "Nobody Here")
    assert unknown.exit_code != 0 and "is not a user" in str(unknown.exception)

    assert _enrolled_by_owner(db) == {"maria": 3, "tom": 1}
    # The filter finds her by any spelling too, the old one included.
    assert _enrolled_by_owner(db, owner="Maria Lopez") == {"maria": 3}
    assert _enrolled_by_owner(db, owner="maria") == {"maria": 3}
    shown = cli("report", "--by", "owner", "--format", "json")
    assert shown.exit_code == 0, shown.output
    rows = {r["group"]: r["enrolled"] for r in json.loads(shown.stdout)["rows"]}
    assert rows == {"maria": 3, "tom": 1}

    # Calls and tasks (kadenz activity) group the same way.
    tick(db, clock, load_settings(home=Path("/nonexistent-kadenz-home")))
    with db.session() as s:
        calls = activity.build_activity(s, by="owner", now=clock.now())
    assert {r.group for r in calls.rows} == {"maria", "tom"}

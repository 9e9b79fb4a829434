"""Calls and tasks in reports: every outcome kind counted once, by owner and step, in the
CLI, the API (JSON and CSV) alike; cancelled tasks count nowhere."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.reporting import activity
from engine.reporting.reports import ReportFilter
from engine.settings import load_settings
from engine.store.db import Database
from engine.store.models import Task

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
# (owner, kind, state, outcome, due days before NOW, completed days before NOW)
TASKS = [
    ("anna", "call", "done", "connected", 5, 5),
    ("anna", "call", "done", "voicemail", 5, 4),
    ("anna", "call", "done", "no_answer", 5, 4),
    ("anna", "call", "done", "meeting_booked", 3, 3),
    ("anna", "call", "done", None, 3, 3),
    ("anna", "call", "skipped", None, 3, 2),
    ("anna", "task", "done", "done", 2, 2),
    ("anna", "task", "skipped", None, 2, 1),
    ("anna", "call", "open", None, 1, None),  # overdue
    ("anna", "task", "open", None, -2, None),  # due in two days: open, not overdue
    ("anna", "call", "cancelled", None, 1, 1),  # the enrollment stopped: counts nowhere
    ("ben", "call", "done", "connected", 40, 40),  # in February
]


def _seed(db: Database) -> None:
    with db.session() as s:
        for owner, kind, state, outcome, due, done in TASKS:
            s.add(
                Task(
                    kind=kind,
                    owner=owner,
                    title=f"{kind} for {owner}",
                    state=state,
                    outcome=outcome,
                    blocking=kind == "call",
                    due_at=NOW - timedelta(days=due),
                    completed_at=None if done is None else NOW - timedelta(days=done),
                    created_at=NOW - timedelta(days=60),
                )
            )


def test_every_outcome_kind_is_counted_once(db: Database) -> None:
    _seed(db)
    with db.session() as s:
        result = activity.build_activity(s, by="owner", now=NOW)
    anna = next(r for r in result.rows if r.group == "anna").as_dict()
    assert anna == {
        "group": "anna",
        "calls_made": 5,
        "connected": 1,
        "voicemail": 1,
        "no_answer": 1,
        "meeting_booked": 1,
        "other_outcome": 1,
        "calls_skipped": 1,
        "tasks_done": 1,
        "tasks_skipped": 1,
        "open": 2,
        "overdue": 1,
    }
    assert result.total.as_dict()["calls_made"] == 6  # ben's February call too
    # A month's range keeps March's work only.
    with db.session() as s:
        march = activity.build_activity(
            s, filters=ReportFilter(since=date(2026, 3, 1), until=date(2026, 3, 31)), now=NOW
        )
    assert [r.group for r in march.rows] == ["anna"]


def test_cli_and_api_agree(db: Database, tmp_path: Path) -> None:
    _seed(db)
    ctx = Context(
        settings=load_settings(home=tmp_path, database_url=db.url), clock=VirtualClock(NOW)
    )
    ctx.__dict__["db"] = db
    out = CliRunner().invoke(app, ["activity", "--format", "json"], obj=ctx)
    assert out.exit_code == 0, out.output
    from_cli = json.loads(out.output)
    with db.session() as s:
        direct = activity.build_activity(s, now=NOW).as_dict()
    assert from_cli == direct
    csv_out = CliRunner().invoke(app, ["activity", "--format", "csv"], obj=ctx)
    lines = csv_out.output.strip().splitlines()
    assert lines[0].startswith("group,calls_made,connected") and lines[-1].startswith("total,6,")


def test_the_api_serves_the_same_as_json_and_csv(db: Database, tmp_path: Path) -> None:
    from engine.api.app import create_app
    from engine.workspace import tokens
    from tests.support.web import TestClient

    _seed(db)
    with db.session() as s:
        _, secret = tokens.create(s, name="mgr", role="manager", at=NOW)
    settings = load_settings(home=tmp_path, secret_key="k", database_url=db.url)
    client = TestClient(create_app(db, settings, VirtualClock(NOW)))
    auth = {"Authorization": f"Bearer {secret}"}
    as_json = client.get("/api/v1/reports/activity", params={"by": "owner"}, headers=auth)
    as_csv = client.get("/api/v1/reports/activity", params={"format": "csv"}, headers=auth)
    sdr = client.get("/api/v1/reports/activity")
    with db.session() as s:
        assert as_json.json() == activity.build_activity(s, now=NOW).as_dict()
        assert as_csv.text == activity.build_activity(s, now=NOW).as_csv()
    assert sdr.status_code == 401

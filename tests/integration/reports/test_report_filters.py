"""Report filters (date range by event or send date, owner, mailbox, sequence, step, variant)
and exports: the CLI, the API (JSON and CSV) and the dashboard's CSV give the same numbers."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.errors import InvalidInput
from engine.reporting import reports, rollups
from engine.reporting.reports import ReportFilter
from engine.settings import load_settings
from engine.store.db import Database
from tests.support.seed import day
from tests.support.web import SeededApp, TestClient, seeded_app


def _build(web: SeededApp, by: str = "sequence", **filters: object) -> reports.Report:
    with web.db.session() as s:
        return reports.build_report(s, by=by, filters=ReportFilter(**filters))  # type: ignore[arg-type]


def _totals(report: reports.Report) -> tuple[int, ...]:
    t = report.total
    assert t is not None
    return (t.contacted, t.delivered, t.bounced, t.replied, t.opted_out, t.meetings)


@pytest.fixture
def seeded(db: Database, tmp_path: Path) -> SeededApp:
    web = seeded_app(db, tmp_path)
    rollups.refresh_rollups(web.db)
    return web


def test_owner_and_mailbox_filters_split_the_total(seeded: SeededApp) -> None:
    everyone = _build(seeded)
    anna, ben = _build(seeded, owner="anna"), _build(seeded, owner="ben")
    assert everyone.total and anna.total and ben.total
    assert anna.total.contacted + ben.total.contacted == everyone.total.contacted
    assert anna.total.replied + ben.total.replied == everyone.total.replied
    assert 0 < anna.total.contacted < everyone.total.contacted
    assert _totals(_build(seeded, mailbox="anna")) == _totals(anna)  # anna sends anna's


def test_event_dates_and_send_dates_answer_different_questions(seeded: SeededApp) -> None:
    # The scenario's first emails go out on day 0; replies come on later days.
    first_day = day(0, 9).date()
    by_event = _build(seeded, since=first_day, until=first_day)
    by_send = _build(seeded, since=first_day, until=first_day, dates="send")
    assert by_event.total and by_send.total
    # Sent that day either way, but only the cohort keeps the replies that came later.
    assert by_event.total.contacted == by_send.total.contacted > 0
    assert by_event.total.replied < by_send.total.replied
    # Event dates partition the facts: that day plus everything after is the whole.
    later, everything = _build(seeded, since=day(1, 0).date()), _build(seeded)
    assert later.total and everything.total
    assert by_event.total.contacted + later.total.contacted == everything.total.contacted
    assert by_event.total.replied + later.total.replied == everything.total.replied


def test_the_reply_rate_comes_with_its_95_percent_interval(seeded: SeededApp) -> None:
    for row in _build(seeded, by="variant", sequence="saas-founders").rows:
        if row.delivered:
            assert row.reply_rate_low is not None and row.reply_rate_high is not None
            assert 0 <= row.reply_rate_low <= (row.reply_rate or 0) <= row.reply_rate_high <= 1


def test_bad_filters_are_one_clear_error(seeded: SeededApp) -> None:
    with pytest.raises(InvalidInput, match="until 2026-03-01 is before since 2026-03-02"):
        ReportFilter(since=date(2026, 3, 2), until=date(2026, 3, 1))
    with pytest.raises(Exception, match="mailbox 'nobody' does not exist"):
        _build(seeded, mailbox="nobody")


def test_api_json_csv_and_cli_agree(seeded: SeededApp, tmp_path: Path) -> None:
    params = {"by": "owner", "since": "2026-03-02", "until": "2026-03-20", "dates": "send"}
    auth = {"Authorization": f"Bearer {seeded.tokens['manager']}"}
    with TestClient(seeded.app) as client:
        as_json = client.get("/api/v1/reports", params=params, headers=auth)
        as_csv = client.get("/api/v1/reports", params={**params, "format": "csv"}, headers=auth)
        bad = client.get(
            "/api/v1/reports", params={"since": "2026-03-05", "until": "2026-03-01"}, headers=auth
        )
    assert as_json.status_code == 200 and as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    body = as_json.json()
    assert body["filters"]["dates"] == "send" and body["filters"]["until"] == "2026-03-20"
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["group"] for r in rows] == [r["group"] for r in body["rows"]] + ["total"]
    for got, want in zip(rows, [*body["rows"], body["total"]], strict=True):
        assert int(got["contacted"]) == want["contacted"]
        assert int(got["replied"]) == want["replied"]
    assert bad.status_code == 422 and "before since" in bad.json()["detail"]

    ctx = Context(settings=load_settings(home=tmp_path, database_url=seeded.db.url))
    ctx.__dict__["db"] = seeded.db
    cli = CliRunner().invoke(
        app,
        [
            "report",
            "--by",
            "owner",
            "--since",
            "2026-03-02",
            "--until",
            "2026-03-20",
            "--dates",
            "send",
            "--format",
            "json",
        ],
        obj=ctx,
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["rows"] == body["rows"]

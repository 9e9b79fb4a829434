"""`kadenz simulate FILE --format json`: DST weekends and Easter in Berlin, nothing written."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from typer.testing import CliRunner

from engine.cli.main import app

BERLIN = ZoneInfo("Europe/Berlin")
SEQUENCE = """\
key: dst-easter
name: DST and Easter
mailboxes: [anna, ben]
schedule:
  timezone: Europe/Berlin
  window: Mon-Fri 09:00-10:00
  holidays: DE-BY
steps:
  - id: intro
    email: {subject: "Hello {{ first_name }}", body: "Hi {{ first_name }}, a question."}
  - wait: 2 days
  - id: bump
    email: {thread: previous, body: "Just bumping this."}
  - wait: 3 business days
  - id: call-1
    call: {title: "Call {{ first_name }}", due: 1 business day}
  - wait: 1 week
  - id: breakup
    email: {subject: "Closing the loop", body: "Bye for now."}
"""


def _csv(path: Path, n: int) -> Path:
    rows = ["email,first_name,company"] + [f"p{i}@firm{i}.example,P{i},Firm {i}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_simulate_json_keeps_berlin_hours_across_dst_and_easter(tmp_path: Path) -> None:
    seq = tmp_path / "dst-easter.yaml"
    seq.write_text(SEQUENCE)
    prospects = _csv(tmp_path / "prospects.csv", 10)
    home = tmp_path / "workspace"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            str(seq),
            "--prospects",
            str(prospects),
            "--start",
            "2026-03-25",
            "--days",
            "45",
            "--format",
            "json",
        ],
        env={"KADENZ_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)
    assert not home.exists()  # nothing written to the workspace
    keys = {"prospect", "step", "type", "mailbox", "at", "local_time", "timezone"}
    assert all(set(a) == keys for a in actions)
    emails = [a for a in actions if a["type"] == "email"]
    assert len(emails) == 30 and sum(a["type"] == "call" for a in actions) == 10
    assert {a["mailbox"] for a in actions} == {"anna", "ben"}
    public = holidays.country_holidays("DE", subdiv="BY", years=[2026])
    by_prospect: dict[str, dict[str, datetime]] = {}
    for a in emails:
        at = datetime.fromisoformat(a["at"].replace("Z", "+00:00"))
        local = datetime.fromisoformat(a["local_time"])
        assert a["timezone"] == "Europe/Berlin" and local == at.astimezone(BERLIN)
        assert local.hour == 9, a  # 09:00-10:00 Berlin, before and after 2026-03-29
        assert local.weekday() < 5 and local.date() not in public, a
        by_prospect.setdefault(a["prospect"], {})[a["step"]] = at
    days = {datetime.fromisoformat(a["local_time"]).date() for a in emails}
    assert min(days) < date(2026, 3, 29) < max(days)  # the run spans the spring switch
    assert not {date(2026, 4, 3), date(2026, 4, 6)} & days  # Good Friday, Easter Monday
    offsets = {datetime.fromisoformat(a["local_time"]).utcoffset() for a in emails}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # CET and CEST both seen
    for steps in by_prospect.values():
        assert steps["bump"] - steps["intro"] >= timedelta(days=2) - timedelta(hours=1)
        assert steps["breakup"] - steps["bump"] >= timedelta(days=3 + 7)


def test_simulate_reports_a_bad_file_clearly(tmp_path: Path) -> None:
    seq = tmp_path / "broken.yaml"
    seq.write_text(SEQUENCE.replace("wait: 2 days", "wait: 2 fortnights"))
    prospects = _csv(tmp_path / "prospects.csv", 1)
    result = CliRunner().invoke(
        app,
        ["simulate", str(seq), "--prospects", str(prospects), "--start", "2026-03-25"],
        env={"KADENZ_HOME": str(tmp_path / "ws")},
    )
    assert result.exit_code != 0
    assert "broken.yaml" in str(result.exception) or "broken.yaml" in result.output


def test_simulate_reads_a_crm_export_like_import_does(tmp_path: Path) -> None:
    """HubSpot headers are recognised (the prospect's "Time Zone" decides the local time) and a
    bad row is skipped with its row number, as `kadenz prospects import` would report it."""
    seq = tmp_path / "seq.yaml"
    seq.write_text(SEQUENCE.replace("timezone: Europe/Berlin", "timezone: prospect"))
    prospects = tmp_path / "hubspot.csv"
    prospects.write_text(
        "Email,First Name,Company Name,Time Zone\n"
        "erik@acme.example,Erik,Acme,America/New_York\n"
        "not-an-address,X,Y,Europe/Berlin\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            str(seq),
            "--prospects",
            str(prospects),
            "--start",
            "2026-03-02",
            "--days",
            "3",
            "--format",
            "json",
        ],
        env={"KADENZ_HOME": str(tmp_path / "ws")},
    )
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)
    assert actions and {a["prospect"] for a in actions} == {"erik@acme.example"}
    assert {a["timezone"] for a in actions} == {"America/New_York"}
    assert "skipped: row 3" in result.stderr


def test_an_empty_pool_simulates_on_the_workspace_mailboxes(tmp_path: Path) -> None:
    seq = tmp_path / "any-mailbox.yaml"
    seq.write_text(SEQUENCE.replace("mailboxes: [anna, ben]\n", ""))
    prospects = _csv(tmp_path / "prospects.csv", 6)
    env = {"KADENZ_HOME": str(tmp_path / "workspace")}
    runner = CliRunner()
    for name in ("carla", "dana", "emil"):
        added = runner.invoke(
            app,
            ["mailbox", "add", name, "--address", f"{name}@us.example", "--smtp", "smtp://h:25"],
            env=env,
        )
        assert added.exit_code == 0, added.output
    paused = runner.invoke(app, ["mailbox", "pause", "emil"], env=env)
    assert paused.exit_code == 0, paused.output
    where = ["--prospects", str(prospects), "--start", "2026-03-25", "--days", "3"]
    result = runner.invoke(app, ["simulate", str(seq), *where, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    used = {a["mailbox"] for a in json.loads(result.stdout)}
    assert used == {"carla", "dana"}  # every unpaused mailbox, as enrollment would pick

"""`kadenz report` prints the same numbers as table, CSV and JSON, with the same columns."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from engine.reporting.reports import COLUMNS
from engine.store.db import Database
from tests.support.seed import seed_scenario


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KADENZ_HOME", str(tmp_path))
    monkeypatch.delenv("KADENZ_DATABASE_URL", raising=False)
    db = Database(f"sqlite:///{tmp_path}/kadenz.db")
    db.upgrade()
    seed_scenario(db)
    db.dispose()
    return tmp_path


def test_formats_agree(workspace: Path) -> None:
    runner = CliRunner()
    as_json = runner.invoke(app, ["report", "--by", "sequence", "--format", "json"])
    as_csv = runner.invoke(app, ["report", "--by", "sequence", "--format", "csv"])
    as_table = runner.invoke(app, ["report", "--by", "sequence"])
    assert as_json.exit_code == as_csv.exit_code == as_table.exit_code == 0
    body = json.loads(as_json.stdout)
    assert body["columns"] == list(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(rows[0].keys()) == list(COLUMNS)
    assert [r["group"] for r in rows] == ["agencies", "saas-founders", "total"]
    saas_json = next(r for r in body["rows"] if r["group"] == "saas-founders")
    assert saas_json["replied"] == 4 and int(rows[1]["replied"]) == 4
    assert "44.4%" in as_table.stdout and "auto-replies" in as_table.stdout


def test_help_shows_definitions_and_bad_input_is_one_line(workspace: Path) -> None:
    runner = CliRunner()
    helptext = runner.invoke(app, ["report", "--help"], terminal_width=200)
    assert "Out-of-office" in helptext.stdout and "reply_rate" in helptext.stdout
    bad = runner.invoke(app, ["report", "--sequence", "nope"])
    assert bad.exit_code != 0

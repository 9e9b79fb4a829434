"""`kadenz inbound classify` end to end through Typer's runner, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from tests.support import mailbuilder as mb

KEYS = {"file", "class", "intent", "recipients", "status", "return_date", "confidence", "evidence"}


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    (tmp_path / "bounce.eml").write_bytes(
        mb.dsn([("erik@acme.example", "failed", "5.1.1", "550 5.1.1 User unknown")])
    )
    (tmp_path / "ooo.eml").write_bytes(
        mb.reply(
            "Ich bin bis zum 6. März im Urlaub und ab dem 09.03.2026 wieder erreichbar.",
            subject="Abwesenheitsnotiz: Quick question",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    (tmp_path / "reply.eml").write_bytes(mb.reply("No thanks, not interested."))
    return tmp_path


def test_json_output_has_exactly_the_documented_keys(mail_dir: Path) -> None:
    files = [str(mail_dir / n) for n in ("bounce.eml", "ooo.eml", "reply.eml")]
    result = CliRunner().invoke(app, ["inbound", "classify", "--format", "json", *files])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [set(r) for r in records] == [KEYS] * 3
    bounce, ooo, reply = records
    assert (bounce["class"], bounce["recipients"], bounce["status"]) == (
        "hard_bounce",
        ["erik@acme.example"],
        "5.1.1",
    )
    assert (ooo["class"], ooo["intent"], ooo["return_date"]) == (
        "auto_reply",
        "out_of_office",
        "2026-03-09",
    )
    assert (reply["class"], reply["intent"]) == ("human_reply", "negative")
    assert any("not interested" in e or "no thanks" in e for e in reply["evidence"])


def test_table_output_names_class_and_evidence(mail_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["inbound", "classify", str(mail_dir / "bounce.eml")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "hard_bounce" in result.stdout
    assert "DSN Status: 5.1.1" in result.stdout


def test_missing_file_is_reported_others_still_classified(mail_dir: Path) -> None:
    missing = mail_dir / "nope.eml"
    result = CliRunner().invoke(
        app,
        ["inbound", "classify", "--format", "json", str(missing), str(mail_dir / "reply.eml")],
    )
    assert result.exit_code == 1
    assert f"error: cannot read {missing}" in result.stderr
    assert "Traceback" not in result.output
    assert [r["file"] for r in json.loads(result.stdout)] == [str(mail_dir / "reply.eml")]


def test_help_explains_the_command() -> None:
    result = CliRunner().invoke(app, ["inbound", "classify", "--help"])
    assert result.exit_code == 0
    assert "--format" in result.stdout
    assert "evidence" in result.stdout

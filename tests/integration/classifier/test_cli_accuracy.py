"""`kadenz inbound accuracy` end to end through Typer's runner, on a small labelled source."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli.main import app
from tests.support import mailbuilder as mb

HEADER = "file,expected_class,recipient,content_key,eol,intent,return_date\n"


def _source(root: Path) -> Path:
    source = root / "mini"
    (source / "eml").mkdir(parents=True)
    (source / "eml" / "hard.eml").write_bytes(
        mb.dsn([("erik@acme.example", "failed", "5.1.1", "550 5.1.1 User unknown")])
    )
    (source / "eml" / "ooo.eml").write_bytes(
        mb.reply(
            "Ich bin im Urlaub und ab dem 09.03.2026 wieder erreichbar.",
            subject="Abwesenheitsnotiz: Quick question",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    (source / "eml" / "no.eml").write_bytes(mb.reply("No thanks, not interested."))
    (source / "labels.csv").write_text(
        HEADER
        + "hard.eml,hard_bounce,erik@acme.example,k1,lf,,\n"
        + "ooo.eml,auto_reply,,k2,lf,,2026-03-09\n"
        + "no.eml,human_reply,,k3,lf,negative,\n",
        encoding="utf-8",
    )
    return source


def test_prints_the_tables_for_a_folder_of_sources(tmp_path: Path) -> None:
    _source(tmp_path)
    result = CliRunner().invoke(app, ["inbound", "accuracy", str(tmp_path), "--details"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "| metric | mini |" in out
    assert "| class agreement | 100.0% (3/3) |" in out
    assert "| recipients | 100.0% (1/1) |" in out
    assert "| return dates | 100.0% (1/1) |" in out
    assert "| intent | 100.0% (1/1) |" in out
    assert "| non-bounces flagged as bounces | 0 of 2 |" in out
    assert "Confusion matrix, mini" in out


def test_a_path_without_labels_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["inbound", "accuracy", str(tmp_path)])
    assert result.exit_code == 2
    assert "no labelled source" in result.stderr
    assert "labels.csv" in result.stderr
    assert "Traceback" not in result.output


def test_a_label_naming_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    source = _source(tmp_path)
    with (source / "labels.csv").open("a", encoding="utf-8") as fh:
        fh.write("gone.eml,hard_bounce,x@acme.example,k4,lf,,\n")
    result = CliRunner().invoke(app, ["inbound", "accuracy", str(source)])
    assert result.exit_code == 2
    assert "gone.eml" in result.stderr and "cannot read" in result.stderr
    assert "Traceback" not in result.output

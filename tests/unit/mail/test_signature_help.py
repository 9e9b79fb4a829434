"""`--signature` says what it does: a template variable, not an automatic footer."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli.main import app

ROOT = Path(__file__).resolve().parents[3]


def test_signature_help_is_honest_and_the_examples_use_it() -> None:
    result = CliRunner().invoke(app, ["mailbox", "add", "--help"], env={"COLUMNS": "200"})
    help_text = " ".join(result.stdout.split())
    assert "{{ sender.signature }}" in help_text
    assert "appended to every email" not in help_text
    # the example sequences' first emails do end with it
    for template in ("saas-founders/intro_a.md.j2", "saas-founders/intro_b.md.j2"):
        assert "sender.signature" in (ROOT / "templates" / template).read_text(encoding="utf-8")

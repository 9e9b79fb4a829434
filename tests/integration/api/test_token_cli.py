"""`kadenz token create|list|revoke` and `kadenz webhook add|list|remove` on a real workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from engine.store.db import Database
from engine.workspace import tokens


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KADENZ_HOME", str(tmp_path))
    monkeypatch.delenv("KADENZ_DATABASE_URL", raising=False)
    return tmp_path


def test_token_lifecycle(workspace: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["token", "create", "--name", "crm", "--role", "manager"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("kdz_")
    db = Database(f"sqlite:///{workspace}/kadenz.db")
    try:
        with db.session() as s:
            rows = tokens.list_tokens(s)
            assert [r.token_hash for r in rows] == [tokens.hash_token(secret)]  # only the hash
            assert secret.startswith(rows[0].prefix) and len(rows[0].prefix) == 10
        listed = runner.invoke(app, ["token", "list"])
        assert "crm" in listed.stdout and secret not in listed.stdout
        no_owner = runner.invoke(app, ["token", "create", "--name", "x", "--role", "sdr"])
        assert no_owner.exit_code != 0
        assert runner.invoke(app, ["token", "revoke", "crm"]).exit_code == 0
        with db.session() as s:
            assert tokens.authenticate(s, secret, datetime(2026, 3, 2, tzinfo=UTC)) is None
    finally:
        db.dispose()


def test_webhook_commands(workspace: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app, ["webhook", "add", "https://crm.example/hook", "--events", "reply,opt_out"]
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.strip().startswith("whsec_")
    listed = runner.invoke(app, ["webhook", "list"])
    assert "https://crm.example/hook" in listed.stdout and "opt_out,reply" in listed.stdout
    bad = runner.invoke(app, ["webhook", "add", "https://x.example", "--events", "nope"])
    assert bad.exit_code != 0
    assert runner.invoke(app, ["webhook", "remove", "1"]).exit_code == 0

"""`kadenz policy validate|push|show`: FILE:LINE:COL errors, and a bad file changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.settings import load_settings
from engine.store.db import Database
from engine.workspace import policy as stored_policy

GOOD = """\
contact_limits:
  per_person: {emails: 1, per: 2 business days}
  per_account: {people: 3, per: 1 week}     # account = company domain, free-mail excluded
concurrent_sequences_per_person: 1
"""


@pytest.fixture
def cli(db: Database, clock: VirtualClock, tmp_path: Path) -> Any:
    runner = CliRunner()

    def run(*args: str) -> Any:
        ctx = Context(settings=load_settings(home=tmp_path / "home"), clock=clock)
        ctx.__dict__["db"] = db
        return runner.invoke(app, list(args), obj=ctx)

    return run


def test_validate_push_show_and_a_bad_file_changes_nothing(
    db: Database, cli: Any, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    assert cli("policy", "validate", str(path)).output.strip() == "ok: policy valid"
    assert "no policy pushed" in cli("policy", "show").output
    assert cli("policy", "push", str(path)).output.strip() == "pushed policy v1"
    assert cli("policy", "push", str(path)).output.strip() == "unchanged policy v1"

    path.write_text(
        GOOD.replace("emails: 1", "emails: 0")
        .replace("per_account", "per_acount")
        .replace("concurrent_sequences_per_person: 1", "concurrent_sequences_per_person: many")
    )
    bad = cli("policy", "push", str(path))
    assert bad.exit_code == 1
    assert bad.output.splitlines() == [
        f"{path}:2:24: contact_limits.per_person.emails: input should be greater than or "
        "equal to 1 (got 0)",
        f"{path}:3:3: unknown key 'per_acount' in contact_limits (did you mean 'per_account'?)",
        f"{path}:4:34: concurrent_sequences_per_person: input should be a valid integer, "
        "unable to parse string as an integer (got 'many')",
        f"3 problem(s) in {path}",
    ]
    with db.session() as s:
        current = stored_policy.current(s)
    assert current is not None and current.concurrent_sequences_per_person == 1
    shown = cli("policy", "show").output
    assert shown.startswith("policy v1, pushed") and "per_person: {emails: 1" in shown

    path.write_text("contact_limits: [1, 2\n")
    syntax = cli("policy", "validate", str(path))
    assert syntax.exit_code == 1 and syntax.output.startswith(f"{path}:")

"""`kadenz sequence migrate` and `push --migrate` as a user types them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.outbound.tick import tick
from engine.people import enrollment as enrolling
from engine.settings import Settings, load_settings
from engine.store.db import Database
from engine.store.models import Enrollment, SequenceVersion
from tests.integration.sending.factory import make_mailbox, make_prospect
from tests.integration.sending.test_migration import V1, V2

Cli = Callable[..., Any]


@pytest.fixture
def cli(db: Database, clock: VirtualClock, tmp_path: Path) -> Cli:
    runner = CliRunner()

    def run(*args: str) -> Any:
        ctx = Context(settings=load_settings(home=tmp_path / "home"), clock=clock)
        ctx.__dict__["db"] = db
        return runner.invoke(app, list(args), obj=ctx)

    return run


def _versions(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(SequenceVersion)) or 0)


def test_push_migrate_dry_run_json_and_refusals(
    db: Database, clock: VirtualClock, settings: Settings, cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(V1)
    assert cli("sequence", "push", str(path)).exit_code == 0
    with db.session() as s:
        make_mailbox(s, clock.now())
        for email in ("erik@beta.example", "jana@gamma.example"):
            make_prospect(s, clock.now(), email)
        enrolling.enroll(s, "launch", ["erik@beta.example", "jana@gamma.example"], at=clock.now())
    tick(db, clock, settings)  # both plan their intro

    path.write_text(V2)
    dry = cli("sequence", "migrate", "launch", "--dry-run")
    assert dry.exit_code == 0  # nothing to migrate yet: v2 is not pushed
    assert "moved" not in dry.output and "would move 0 enrollment(s)" in dry.output

    pushed = cli("sequence", "push", "--migrate", str(path))
    assert pushed.exit_code == 0, pushed.output
    assert "pushed launch v2" in pushed.output
    assert "moved 2 enrollment(s); 0 already on v2; 0 skipped" in pushed.output
    with db.session() as s:
        assert set(s.scalars(select(Enrollment.step_id))) == {"wait-1"}

    path.write_text(V2.replace("Following up", "Checking in"))
    assert cli("sequence", "push", str(path)).exit_code == 0  # v3, nobody moved yet
    planned = cli("sequence", "migrate", "launch", "--dry-run", "--format", "json")
    assert planned.exit_code == 0, planned.output
    body = json.loads(planned.output)
    assert body["to_version"] == 3 and body["dry_run"] and body["migrated"] == 0
    assert [
        (g["from_version"], g["from_step"], g["to_step"], g["count"]) for g in body["groups"]
    ] == [(2, "wait-1", "wait-1", 2)]
    again = json.loads(cli("sequence", "migrate", "launch", "--format", "json").output)
    assert again["migrated"] == 2
    twice = json.loads(cli("sequence", "migrate", "launch", "--format", "json").output)
    assert (twice["migrated"], twice["already_on_target"]) == (0, 2)

    # bump and breakup swap places: refused with the reason, nothing pushed or moved
    swapped = V2.replace("id: follow-up", "id: tmp").replace("id: breakup", "id: follow-up")
    path.write_text(swapped.replace("id: tmp", "id: breakup"))
    refused = cli("sequence", "push", "--migrate", str(path))
    assert refused.exit_code == 1
    assert "changed order" in str(refused.exception)
    assert "nothing was pushed or changed" in str(refused.exception)
    assert _versions(db) == 3

    missing = cli("sequence", "migrate", "launch", "--to", "9")
    assert missing.exit_code == 1 and "has no version 9 (versions: v1, v2, v3)" in str(
        missing.exception
    )


def test_a_bad_renamed_from_is_reported_at_its_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(V1.replace("  - id: bump\n", "  - id: bump\n    renamed_from: intro\n"))
    out = cli("sequence", "validate", str(path))
    assert out.exit_code == 1
    assert (
        "launch.yaml:10:19: step 'bump' says renamed_from 'intro', but a step 'intro' is still "
        "in this file" in out.output
    )

"""`kadenz task list | done | skip`: the SDR's queue, and a waiting sequence goes on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli.main import app
from engine.clock import VirtualClock
from engine.core.states import EnrollmentState
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Task
from tests.integration.sending.factory import BASIC_SPEC, build_world


def test_task_list_done_resumes_the_waiting_enrollment(
    sqlite_db: Database, clock: VirtualClock, settings: Settings, tmp_path: Path
) -> None:
    spec = {
        **BASIC_SPEC,
        "steps": [
            {"id": "call-1", "type": "call", "title": "Call {{ first_name }}", "blocking": True},
            {"id": "wait-1", "type": "wait", "duration": "1 day"},
        ],
    }
    with sqlite_db.session() as s:
        build_world(s, clock.now(), ["erik@beta.example", "jana@gamma.example"], spec=spec)
    tick(sqlite_db, clock, settings)
    env = {"KADENZ_DATABASE_URL": sqlite_db.url, "KADENZ_HOME": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()
    listed = runner.invoke(app, ["task", "list", "--owner", "sdr@acme.example"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "Call Erik" in listed.output and "Call Jana" in listed.output
    with sqlite_db.session() as s:
        erik_task, jana_task = s.scalars(select(Task).order_by(Task.id)).all()
    done = runner.invoke(
        app, ["task", "done", str(erik_task.id), "--outcome", "connected"], env=env
    )
    assert done.exit_code == 0 and "done (connected)" in done.output
    skipped = runner.invoke(app, ["task", "skip", str(jana_task.id)], env=env)
    assert skipped.exit_code == 0
    again = runner.invoke(app, ["task", "done", str(erik_task.id)], env=env)
    assert again.exit_code != 0  # already done: a Conflict, not a second completion
    with sqlite_db.session() as s:
        states = [e.state for e in s.scalars(select(Enrollment).order_by(Enrollment.id))]
    assert states == [EnrollmentState.ACTIVE, EnrollmentState.ACTIVE]
    assert runner.invoke(app, ["task", "list"], env=env).output.strip() == "no tasks"

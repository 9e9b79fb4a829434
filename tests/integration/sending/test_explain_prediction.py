"""`explain` predicts what the tick and the sender then do, over open, closed and 24-hour
windows: the prediction comes from the same decision (`Placement.plan_send`)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.outbound.explain import explain_prospect
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, OutboundMessage, Task
from tests.integration.sending.factory import BASIC_SPEC, build_world
from tests.support.smtp_server import SmtpSink

EMAIL = "erik@beta.example"  # the factory's prospects live in Europe/Berlin


def _spec(window: str, wait: str) -> dict[str, Any]:
    spec = copy.deepcopy(BASIC_SPEC)
    spec["schedule"]["window"] = window
    spec["steps"] = [
        {"id": "linkedin", "type": "task", "title": "Connect on LinkedIn", "blocking": False},
        {"id": "pause", "type": "wait", "duration": wait},
        *spec["steps"],
    ]
    return spec


# (window, wait before the email, start in UTC, whether the window is open when it is due)
CASES = [
    # Tuesday 08:00 UTC = 09:00 Berlin; due 11:00 Berlin: open, so at once
    ("Mon-Fri 09:00-17:00", "2 hours", datetime(2026, 3, 3, 8, 0, tzinfo=UTC), True),
    # due 19:00 Berlin: closed, spread over Wednesday's open time
    ("Mon-Fri 09:00-17:00", "10 hours", datetime(2026, 3, 3, 8, 0, tzinfo=UTC), False),
    # due Saturday: spread over Monday
    ("Mon-Fri 09:00-17:00", "3 days", datetime(2026, 3, 4, 10, 0, tzinfo=UTC), False),
    # a 24-hour window is always open: at once, even at 23:30 on a Monday
    ("Mon-Sun 00:00-24:00", "14 hours", datetime(2026, 3, 2, 8, 30, tzinfo=UTC), True),
]


@pytest.mark.parametrize(("window", "wait", "start", "open_when_due"), CASES)
def test_explain_predicts_what_tick_and_send_do(
    db: Database,
    settings: Settings,
    sink: SmtpSink,
    window: str,
    wait: str,
    start: datetime,
    open_when_due: bool,
) -> None:
    clock = VirtualClock(start)
    with db.session() as s:
        build_world(s, start, [EMAIL], spec=_spec(window, wait), smtp_url=sink.url)
    tick(db, clock, settings)  # the non-blocking task, then the wait
    with db.session() as s:
        due = s.scalars(select(Enrollment)).one().next_run_at
        (e,) = explain_prospect(s, EMAIL, clock.now()).enrollments
    assert due is not None and e.next_at is not None
    # the LinkedIn task is open, but it holds nothing
    assert e.holds == [] and len(e.tasks) == 1 and "Connect on LinkedIn" in e.tasks[0]
    predicted = e.next_at
    assert (predicted == due) is open_when_due, e.next_action

    clock.set(due)  # the tick runs when the wait ends
    tick(db, clock, settings)
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
        (now_e,) = explain_prospect(s, EMAIL, clock.now()).enrollments
    assert message.not_before == predicted
    assert now_e.next_at == predicted  # and explain still says the same, now it is planned

    clock.set(predicted)
    send_due(db, clock, settings)
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
        task = s.scalars(select(Task)).one()
    assert message.state == MessageState.SENT and message.sent_at == predicted
    assert task.state == "open"
    assert len(sink.messages) == 1


def test_explain_cli_lists_a_non_blocking_task_apart(
    db: Database, settings: Settings, tmp_path: object
) -> None:
    if db.dialect != "sqlite":
        return  # the CLI part needs one workspace database; SQLite is enough
    from typer.testing import CliRunner

    from engine.cli.main import app

    start = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    clock = VirtualClock(start)
    with db.session() as s:
        build_world(s, start, [EMAIL], spec=_spec("Mon-Fri 09:00-17:00", "2 hours"))
    tick(db, clock, settings)
    env = {"KADENZ_DATABASE_URL": db.url, "KADENZ_HOME": str(tmp_path), "COLUMNS": "200"}
    out = CliRunner().invoke(app, ["explain", EMAIL], env=env).output
    assert "held by" not in out
    assert "also to do (holds nothing): open task" in out

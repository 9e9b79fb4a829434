"""Manual email steps: held for the owner's review, edited, approved through the normal send
path (a real SMTP sink), or skipped so the sequence goes on."""

from __future__ import annotations

from copy import deepcopy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.errors import Conflict
from engine.outbound import review
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.people import task_queue
from engine.settings import Settings, load_settings
from engine.store.db import Database
from engine.store.models import Enrollment, OutboundMessage, Task
from tests.integration.sending.factory import BASIC_SPEC, build_world, received
from tests.support.smtp_server import SmtpSink

SPEC: dict[str, Any] = deepcopy(BASIC_SPEC)
SPEC["steps"][2]["review"] = True  # the bump is a manual email


@pytest.fixture
def cli(db: Database, clock: VirtualClock, tmp_path: Path) -> Any:
    runner = CliRunner()

    def run(*args: str) -> Any:
        ctx = Context(settings=load_settings(home=tmp_path / "home"), clock=clock)
        ctx.__dict__["db"] = db
        return runner.invoke(app, list(args), obj=ctx)

    return run


def test_a_manual_email_waits_for_review_then_goes_edited_or_is_skipped(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, cli: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    with db.session() as s:
        build_world(s, clock.now(), ["erik@beta.example", "jana@gamma.example"],
                    spec=SPEC, smtp_url=sink.url)  # fmt: skip
    tick(db, clock, settings)
    assert send_due(db, clock, settings).sent == 2  # the intros are not manual
    clock.advance(timedelta(days=3))  # Thursday: the waits are over
    tick(db, clock, settings)
    tick(db, clock, settings)
    assert send_due(db, clock, settings).claimed == 0  # both bumps wait for a person
    with db.session() as s:
        items = review.pending(s, owner="sdr@acme.example")
        tasks = s.scalars(select(Task).where(Task.kind == "manual_email")).all()
        with pytest.raises(Conflict, match="an email to review"):
            task_queue.complete(s, tasks[0].id, outcome="done", at=clock.now())
    assert [i.step for i in items] == ["bump", "bump"] and len(tasks) == 2
    assert all(i.subject == "Re: Quick question, " + i.to.split("@")[0].title() for i in items)
    erik, jana = sorted(items, key=lambda i: i.to)

    listed = cli("review", "list")
    assert listed.exit_code == 0 and "erik@beta.example" in listed.output
    body = tmp_path / "body.md"
    body.write_text("Hi Erik,\n\nwe met at **SaaStock**, worth a call?\n")
    edited = cli("review", "edit", str(erik.id), "--subject", "Since SaaStock",
                 "--body-file", str(body), "--by", "anna")  # fmt: skip
    assert edited.exit_code == 0, edited.output
    bad = cli("review", "edit", str(erik.id), "--subject", "two\nlines")
    assert bad.exit_code == 1 and "without line breaks" in str(bad.exception)
    assert cli("review", "approve", str(erik.id)).exit_code == 0
    again = cli("review", "approve", str(erik.id))
    assert again.exit_code == 1 and "not waiting for review" in str(again.exception)
    assert cli("review", "skip", str(jana.id)).exit_code == 0

    sent = send_due(db, clock, settings)
    assert sent.sent == 1 and send_due(db, clock, settings).claimed == 0
    wire = received(sink)[-1]
    assert wire["Subject"] == "Since SaaStock" and "erik@beta.example" in str(wire["To"])
    assert wire["In-Reply-To"] is not None  # still in the intro's thread
    plain = wire.get_body(("plain",))
    html = wire.get_body(("html",))
    assert plain is not None and "SaaStock" in plain.get_content()
    assert html is not None and "<strong>SaaStock</strong>" in html.get_content()
    with db.session() as s:
        states = dict(
            s.execute(select(OutboundMessage.id, OutboundMessage.state)).all()  # type: ignore[arg-type]
        )
        closed = sorted(s.scalars(select(Task.outcome).where(Task.kind == "manual_email")))
        jana_enrollment = s.get(Enrollment, s.get(OutboundMessage, jana.id).enrollment_id)  # type: ignore[union-attr]
    assert states[erik.id] == "sent" and states[jana.id] == "cancelled"
    assert closed == ["approved", "skipped"]
    assert jana_enrollment is not None and jana_enrollment.next_run_at == clock.now()

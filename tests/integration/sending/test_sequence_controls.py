"""Sequence-level controls and bulk actions, through the tick and a real SMTP sink."""

from __future__ import annotations

from collections.abc import Callable
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
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.people import controls
from engine.people import enrollment as enrolling
from engine.settings import Settings, load_settings
from engine.store.db import Database
from engine.store.models import Enrollment, OutboundMessage, Prospect
from tests.integration.sending.factory import build_world, make_prospect
from tests.support.smtp_server import SmtpSink

EMAILS = ["erik@beta.example", "jana@beta.example", "li@delta.example"]
Cli = Callable[..., Any]


@pytest.fixture
def cli(db: Database, clock: VirtualClock, tmp_path: Path) -> Cli:
    runner = CliRunner()

    def run(*args: str) -> Any:
        ctx = Context(settings=load_settings(home=tmp_path / "home"), clock=clock)
        ctx.__dict__["db"] = db
        return runner.invoke(app, list(args), obj=ctx)

    return run


def _states(db: Database) -> dict[str, tuple[str, str | None]]:
    with db.session() as s:
        rows = s.execute(
            select(Prospect.email, Enrollment.state, Enrollment.state_reason).join(
                Prospect, Prospect.id == Enrollment.prospect_id
            )
        ).all()
        return {email: (state, reason) for email, state, reason in rows}


def test_a_paused_sequence_holds_everyone_and_resumes_only_what_it_held(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, cli: Cli
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), EMAILS, smtp_url=sink.url)
        make_prospect(s, clock.now(), "ola@gamma.example")
    tick(db, clock, settings)  # three intros planned, due now
    with db.session() as s:  # li is out of office until tomorrow
        enrolling.pause(s, "li@delta.example", "saas-founders", at=clock.now(),
                        reason="out of office", until=clock.now() + timedelta(days=1))  # fmt: skip
    paused = cli("sequence", "pause", "saas-founders", "--reason", "pricing typo")
    assert paused.exit_code == 0, paused.output
    assert "2 live enrollment(s) held, 1 were already paused" in paused.output
    assert _states(db)["erik@beta.example"] == ("paused", "sequence paused: pricing typo")
    assert "paused" in cli("sequence", "list").output

    clock.advance(timedelta(days=2))  # li's out-of-office ends while the sequence is paused
    assert send_due(db, clock, settings).claimed == 0
    assert tick(db, clock, settings).resumed == 0
    assert _states(db)["li@delta.example"] == ("paused", "out of office")
    with db.session() as s, pytest.raises(Conflict, match="is paused"):
        enrolling.enroll(s, "saas-founders", ["ola@gamma.example"], at=clock.now())
    with db.session() as s, pytest.raises(Conflict, match="whole sequence saas-founders"):
        enrolling.resume(s, "erik@beta.example", "saas-founders", at=clock.now())
    again = cli("sequence", "pause", "saas-founders")
    assert again.exit_code == 1 and "already paused (pricing typo)" in str(again.exception)

    resumed = cli("sequence", "resume", "saas-founders")
    assert "2 enrollment(s) released" in resumed.output
    assert _states(db)["li@delta.example"] == ("paused", "out of office")  # its own pause
    assert tick(db, clock, settings).resumed == 1  # which has ended by now
    sent = send_due(db, clock, settings)
    assert sent.sent == 3 and len(sink.messages) == 3  # each planned intro, once


def test_bulk_actions_by_domain_owner_and_csv_and_archive(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, cli: Cli,
    tmp_path: Path,
) -> None:  # fmt: skip
    with db.session() as s:
        build_world(s, clock.now(), EMAILS, smtp_url=sink.url)
        s.execute(
            Enrollment.__table__.update()  # type: ignore[attr-defined]
            .where(Enrollment.id == 3)
            .values(owner="ben@acme.example")
        )
    tick(db, clock, settings)

    by_domain = cli("enrollment", "pause", "--domain", "beta.example", "--reason", "customer")
    assert "paused 2 of 2 live enrollment(s)" in by_domain.output, by_domain.output
    assert {e for e, (st, _) in _states(db).items() if st == "paused"} == set(EMAILS[:2])
    back = cli("enrollment", "resume", "--sequence", "saas-founders", "--owner", "sdr@acme.example")
    assert "resumed 2 of 2" in back.output

    listed = tmp_path / "legal.csv"
    listed.write_text("Name;E-Mail\nJana;JANA@beta.example\nLi;li@delta.example\n")
    counted = cli("enrollment", "stop", "--csv", str(listed), "--reason", "legal")
    assert "would stop 2 live enrollment(s); add --yes" in counted.output
    assert (
        cli("enrollment", "stop", "--csv", str(listed), "--reason", "legal", "--yes").exit_code == 0
    )
    assert _states(db)["jana@beta.example"][0] == "stopped"
    bad = tmp_path / "bad.csv"
    bad.write_text("email\nerik@beta.example\nnot-an-address\n")
    refused = cli("enrollment", "pause", "--csv", str(bad))
    assert refused.exit_code == 1 and f"{bad}:3: 'not-an-address'" in str(refused.exception)
    nothing = cli("enrollment", "pause")
    assert nothing.exit_code == 1 and "say which enrollments" in str(nothing.exception)

    archived = cli("sequence", "archive", "saas-founders")
    assert "archived; 1 live enrollment(s) will finish" in archived.output
    with db.session() as s, pytest.raises(Conflict, match="archived"):
        enrolling.enroll(s, "saas-founders", ["jana@beta.example"], at=clock.now())
    assert send_due(db, clock, settings).sent == 1  # erik's intro still goes
    stop_all = cli("sequence", "archive", "saas-founders", "--stop-all")
    assert "1 live enrollment(s) stopped" in stop_all.output
    with db.session() as s:
        assert controls.select_live(s, controls.Filter(sequence="saas-founders")) == []
        cancelled = s.scalars(
            select(OutboundMessage.held_reason).where(OutboundMessage.state == "cancelled")
        ).all()
    assert sorted(cancelled) == ["legal", "legal"]

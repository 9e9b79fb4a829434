"""`explain` and `outbox` say what holds a message, in words, and what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli.main import app
from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.outbound.explain import explain_prospect
from engine.outbound.outbox import outbox
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.integration.sending.factory import BASIC_SPEC, build_world


def test_explain_names_the_easter_holiday_and_the_window(db: Database, settings: Settings) -> None:
    # Thursday before Easter 2026, 18:00 in Berlin: Good Friday and Easter Monday are holidays
    clock = VirtualClock(datetime(2026, 4, 2, 16, 0, tzinfo=UTC))
    with db.session() as s:
        build_world(s, clock.now(), ["erik@beta.example"])
    tick(db, clock, settings)
    with db.session() as s:
        report = explain_prospect(s, "Erik@Beta.example", clock.now())
    (e,) = report.enrollments
    assert e.state == "active" and e.step == "intro (email planned)"
    assert e.timezone == "Europe/Berlin (prospect timezone)"
    assert e.next_action.startswith("email intro at 2026-04-07 ")
    assert "(Tue " in e.next_action and "Europe/Berlin)" in e.next_action
    (hold,) = e.holds
    assert "2026-04-03 is Good Friday (DE-BY)" in hold and "2026-04-06 is Easter Monday" in hold
    assert "window Mon-Fri 09:00-17:00" in hold


def test_outbox_and_explain_show_an_ambiguous_send_and_what_to_do(
    db: Database, clock: VirtualClock, settings: Settings, tmp_path: object
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), ["erik@beta.example"], spec=BASIC_SPEC)
    tick(db, clock, settings)
    with db.session() as s:
        m = s.scalars(select(OutboundMessage)).one()
        m.state, m.last_error = MessageState.AMBIGUOUS, "no answer after DATA"
        message_id = m.id
    with db.session() as s:
        (line,) = outbox(s)
        assert line.state == "ambiguous"
        assert f"kadenz message resolve {message_id} --sent" in line.why
        (e,) = explain_prospect(s, "erik@beta.example", clock.now()).enrollments
    assert e.next_action == "email intro: awaiting a human decision"
    assert any("kadenz message resolve" in h for h in e.holds)

    if db.dialect != "sqlite":
        return  # the CLI part needs a workspace URL; one database is enough for it
    env = {"KADENZ_DATABASE_URL": db.url, "KADENZ_HOME": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()
    shown = runner.invoke(app, ["outbox", "--state", "ambiguous"], env=env)
    assert shown.exit_code == 0 and "ambiguous" in shown.output
    bad = runner.invoke(app, ["message", "resolve", str(message_id)], env=env)
    assert bad.exit_code != 0  # no proof possible without IMAP: a person decides
    assert "still ambiguous: the mailbox has no IMAP" in bad.output
    done = runner.invoke(app, ["message", "resolve", str(message_id), "--sent"], env=env)
    assert done.exit_code == 0, done.output
    assert f"message {message_id} is now sent" in done.output
    shown = runner.invoke(app, ["message", "resolve", str(message_id)], env=env)
    assert shown.exit_code == 0
    assert f"message {message_id} is sent" in shown.output
    assert "sent by a person: a person's word" in shown.output
    with db.session() as s:
        assert s.scalars(select(OutboundMessage)).one().state == MessageState.SENT
    again = runner.invoke(app, ["outbox"], env=env)
    assert "the outbox is empty" in again.output

"""Tick + send against a real SMTP server: first emails, waits from the send, threading."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Event, OutboundMessage
from tests.integration.sending.factory import build_world, received
from tests.support.smtp_server import SmtpSink

EMAILS = ["erik@beta.example", "jana@gamma.example", "li@delta.example"]


def _messages(db: Database) -> list[OutboundMessage]:
    with db.session() as s:
        return list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_first_emails_go_out_once_with_their_headers(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), EMAILS, smtp_url=sink.url)
    report = tick(db, clock, settings)
    assert report.emails_planned == 3
    planned = _messages(db)
    assert {m.state for m in planned} == {MessageState.PLANNED}
    # 09:00 Berlin on a Monday: the window is open, so they are due at once
    assert all(m.not_before == clock.now() for m in planned)

    clock.set(max(m.not_before for m in planned))
    sent = send_due(db, clock, settings)
    assert sent.sent == 3
    assert len(sink.messages) == 3
    by_to = {str(m["To"]): m for m in received(sink)}
    erik = next(m for to, m in by_to.items() if "erik@beta.example" in to)
    assert erik["Subject"] == "Quick question, Erik"
    assert "Anna Acme" in str(erik["From"]) and "anna@acme.example" in str(erik["From"])
    assert str(erik["Message-ID"]).endswith("@acme.example>")
    assert "https://kadenz.acme.example/u/u1." in str(erik["List-Unsubscribe"])
    assert erik["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = erik.get_body(("plain",))
    assert body is not None and "how does Example GmbH book demos" in body.get_content()

    with db.session() as s:
        for e in s.scalars(select(Enrollment)):
            msg = s.scalars(
                select(OutboundMessage).where(OutboundMessage.enrollment_id == e.id)
            ).one()
            assert msg.state == MessageState.SENT
            # the wait after the email counts from the moment it was sent
            assert e.step_id == "wait-1" and e.next_run_at == msg.sent_at == e.step_started_at
        types = [ev.type for ev in s.scalars(select(Event).order_by(Event.id))]
    assert types.count("message.planned") == 3 and types.count("message.sent") == 3

    # another round executes the waits but plans and sends nothing new
    again = tick(db, clock, settings)
    assert (again.waits, again.emails_planned) == (3, 0)
    assert tick(db, clock, settings).executed == 0
    assert send_due(db, clock, settings).claimed == 0
    assert sink.data_received == 3


def test_wait_counts_from_the_send_and_the_bump_threads(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:1], smtp_url=sink.url)
    tick(db, clock, settings)
    clock.set(_messages(db)[0].not_before)
    send_due(db, clock, settings)
    sent_at = _messages(db)[0].sent_at
    assert sent_at is not None
    assert tick(db, clock, settings).waits == 1
    with db.session() as s:
        enrollment = s.scalars(select(Enrollment)).one()
        # Monday + 3 business days = Thursday, same local time
        assert enrollment.next_run_at == sent_at + timedelta(days=3)
        assert enrollment.step_id == "bump"
    clock.set(sent_at + timedelta(days=3))
    assert tick(db, clock, settings).emails_planned == 1
    clock.set(max(m.not_before for m in _messages(db)))
    assert send_due(db, clock, settings).sent == 1
    intro, bump = received(sink)
    assert bump["Subject"] == "Re: Quick question, Erik"
    assert bump["In-Reply-To"] == intro["Message-ID"]
    assert intro["Message-ID"] in bump["References"]
    # the sequence has no more steps: the next tick finishes the enrollment
    assert tick(db, clock, settings).finished == 1
    with db.session() as s:
        assert s.scalars(select(Enrollment)).one().state == EnrollmentState.FINISHED


def test_a_new_round_is_planned_in_the_window_not_at_night(
    db: Database, settings: Settings, sink: SmtpSink
) -> None:
    clock = VirtualClock(datetime(2026, 3, 6, 17, 30, tzinfo=UTC))  # Friday 18:30 in Berlin
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:1], smtp_url=sink.url)
    tick(db, clock, settings)
    (message,) = _messages(db)
    local = message.not_before.astimezone(ZoneInfo("Europe/Berlin"))
    assert local.date().isoformat() == "2026-03-09" and 9 <= local.hour < 17  # Monday
    assert send_due(db, clock, settings).claimed == 0
    assert sink.data_received == 0


def test_batched_writes_match_the_one_by_one_ones(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The tick's batch and the sender's outcome batch write plain rows in bulk; they must
    not fall back to their careful step-by-step path, and must write what it would."""
    caplog.set_level(logging.INFO)
    with db.session() as s:
        build_world(s, clock.now(), EMAILS, smtp_url=sink.url)
    assert tick(db, clock, settings).emails_planned == 3
    assert send_due(db, clock, settings).sent == 3
    fallbacks = [r.message for r in caplog.records if "step by step" in r.message]
    fallbacks += [r.message for r in caplog.records if "one by one" in r.message]
    assert fallbacks == []
    with db.session() as s:
        for m in s.scalars(select(OutboundMessage)):
            assert (m.state, m.smtp_code, m.attempts) == (MessageState.SENT, 250, 1)
            assert m.sent_at == clock.now() and m.lease_until is None and m.last_error is None
            rows = s.scalars(select(Event).where(Event.outbound_id == m.id).order_by(Event.id))
            by_type = {e.type: e for e in rows}
            assert set(by_type) == {"message.planned", "message.sending", "message.sent"}
            for event in by_type.values():
                assert (event.enrollment_id, event.prospect_id) == (m.enrollment_id, m.prospect_id)
                assert (event.step_id, event.mailbox_id) == ("intro", m.mailbox_id)
                assert (event.sequence_id, event.version_id) == (m.sequence_id, m.version_id)
            assert by_type["message.sent"].data == {"attempts": 1}
            assert by_type["message.planned"].data["not_before"] == m.not_before.isoformat()
            executed = s.scalars(
                select(Event).where(
                    Event.enrollment_id == m.enrollment_id,
                    Event.type == str(EventType.STEP_EXECUTED),
                )
            ).one()
            assert (executed.step_id, executed.data) == ("intro", {"type": "email"})

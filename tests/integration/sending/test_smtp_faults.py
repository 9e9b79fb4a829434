"""Each SMTP fault leads to the right state, and the server sees each message at most once."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import EnrollmentState, MessageState
from engine.services import suppression
from engine.services._standins import SmtpSender, parse_smtp_url
from engine.services.outcomes import MAX_ATTEMPTS
from engine.services.send import Mailer, send_due, smtp_mailer_factory
from engine.services.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox, OutboundMessage
from tests.integration.sending.factory import build_world
from tests.integration.sending.smtp_sink import Sink


def _short_timeouts(mailbox: Mailbox, password: str | None) -> AbstractAsyncContextManager[Mailer]:
    return SmtpSender(
        parse_smtp_url(mailbox.smtp_url), password=password, timeout=5, data_timeout=1
    )


def _run(
    db: Database, clock: VirtualClock, settings: Settings, email: str, sink: Sink
) -> OutboundMessage:
    with db.session() as s:
        build_world(s, clock.now(), [email], smtp_url=sink.url)
    tick(db, clock, settings)
    clock.advance(timedelta(minutes=20))
    send_due(db, clock, settings, _short_timeouts)
    with db.session() as s:
        return s.scalars(select(OutboundMessage)).one()


def _enrollment(db: Database) -> Enrollment:
    with db.session() as s:
        return s.scalars(select(Enrollment)).one()


@pytest.mark.parametrize(
    ("email", "state", "enrollment_state", "suppressed"),
    [
        ("t550.erik@beta.example", MessageState.BOUNCED, EnrollmentState.STOPPED, True),
        ("t552.erik@beta.example", MessageState.BOUNCED, EnrollmentState.STOPPED, False),
        ("t571.erik@beta.example", MessageState.FAILED, EnrollmentState.PAUSED, False),
        ("t451.erik@beta.example", MessageState.PLANNED, EnrollmentState.ACTIVE, False),
        ("t421.erik@beta.example", MessageState.PLANNED, EnrollmentState.ACTIVE, False),
        ("drop.erik@beta.example", MessageState.AMBIGUOUS, EnrollmentState.ACTIVE, False),
        ("hang.erik@beta.example", MessageState.AMBIGUOUS, EnrollmentState.ACTIVE, False),
    ],
)
def test_fault_leads_to_state(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    sink: Sink,
    email: str,
    state: MessageState,
    enrollment_state: EnrollmentState,
    suppressed: bool,
) -> None:
    message = _run(db, clock, settings, email, sink)
    assert message.state == state
    assert _enrollment(db).state == enrollment_state
    with db.session() as s:
        assert (suppression.find(s, email) is not None) is suppressed
    assert sink.messages == []
    # whatever happened, the server saw this message at most once ...
    assert sink.message_ids().count(message.message_id) <= 1
    # ... and later rounds never send it again unless it is planned for a retry
    for _ in range(3):
        clock.advance(timedelta(hours=2))
        tick(db, clock, settings)
        send_due(db, clock, settings, _short_timeouts)
    if state != MessageState.PLANNED:
        assert sink.message_ids().count(message.message_id) <= 1


def test_temporary_failures_back_off_then_give_up(
    db: Database, clock: VirtualClock, settings: Settings, sink: Sink
) -> None:
    message = _run(db, clock, settings, "t451.erik@beta.example", sink)
    assert message.attempts == 1 and message.not_before == clock.now() + timedelta(minutes=5)
    assert "retry 2/5" in (message.held_reason or "")
    gaps = []
    for _ in range(MAX_ATTEMPTS - 1):
        with db.session() as s:
            due = s.scalars(select(OutboundMessage)).one().not_before
        gaps.append(due - clock.now())
        clock.set(due)
        send_due(db, clock, settings, _short_timeouts)
    assert gaps == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    with db.session() as s:
        final = s.scalars(select(OutboundMessage)).one()
    assert final.state == MessageState.FAILED and final.attempts == MAX_ATTEMPTS
    assert "gave up after 5 attempts: 451 4.7.1" in (final.last_error or "")
    assert _enrollment(db).state == EnrollmentState.PAUSED
    assert sink.attempts == []  # refused at RCPT: no DATA ever reached the server


def test_unreachable_server_is_a_retry_not_a_loss(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), ["erik@beta.example"], smtp_url="smtp://127.0.0.1:9")
    tick(db, clock, settings)
    clock.advance(timedelta(minutes=20))
    report = send_due(db, clock, settings, smtp_mailer_factory)
    assert report.retried == 1
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
    assert message.state == MessageState.PLANNED and "connect" in (message.last_error or "").lower()

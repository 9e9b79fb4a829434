"""Each SMTP fault leads to the right state, and the server sees each message at most once."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import EnrollmentState, MessageState
from engine.mail.smtp import SmtpSender
from engine.mail.urls import parse_smtp_url
from engine.outbound.outcomes import MAX_ATTEMPTS
from engine.outbound.send import Mailer, send_due, smtp_mailer_factory
from engine.outbound.tick import tick
from engine.people import suppression
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox, OutboundMessage
from tests.integration.sending.factory import advance_to_due, build_world
from tests.support.smtp_server import Fault, SmtpSink


def _short_timeouts(mailbox: Mailbox, password: str | None) -> AbstractAsyncContextManager[Mailer]:
    return SmtpSender(
        parse_smtp_url(mailbox.smtp_url), password=password, timeout=5, data_timeout=1
    )


def _run(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    email: str,
    sink: SmtpSink,
    fault: Fault | None = None,
) -> OutboundMessage:
    if fault is not None:
        sink.set_fault(email, fault)
    with db.session() as s:
        build_world(s, clock.now(), [email], smtp_url=sink.url)
    tick(db, clock, settings)
    advance_to_due(db, clock)
    send_due(db, clock, settings, _short_timeouts)
    with db.session() as s:
        return s.scalars(select(OutboundMessage)).one()


def _enrollment(db: Database) -> Enrollment:
    with db.session() as s:
        return s.scalars(select(Enrollment)).one()


@pytest.mark.parametrize(
    ("fault", "state", "enrollment_state", "suppressed"),
    [
        (Fault.RCPT_550, MessageState.BOUNCED, EnrollmentState.STOPPED, True),
        (Fault.RCPT_552, MessageState.BOUNCED, EnrollmentState.STOPPED, False),
        (Fault.DATA_554, MessageState.FAILED, EnrollmentState.PAUSED, False),
        (Fault.RCPT_451, MessageState.PLANNED, EnrollmentState.ACTIVE, False),
        ("refuse_421", MessageState.PLANNED, EnrollmentState.ACTIVE, False),
        (Fault.DROP_DURING_DATA, MessageState.AMBIGUOUS, EnrollmentState.ACTIVE, False),
        (Fault.HANG_AFTER_DATA, MessageState.AMBIGUOUS, EnrollmentState.ACTIVE, False),
    ],
)
def test_fault_leads_to_state(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    sink: SmtpSink,
    fault: Fault | str,
    state: MessageState,
    enrollment_state: EnrollmentState,
    suppressed: bool,
) -> None:
    email = "erik@beta.example"
    if fault == "refuse_421":
        sink.refuse_next_connections(1)  # 421 instead of the greeting
    message = _run(db, clock, settings, email, sink, fault if isinstance(fault, Fault) else None)
    assert message.state == state
    assert _enrollment(db).state == enrollment_state
    with db.session() as s:
        assert (suppression.find(s, email) is not None) is suppressed
    assert sink.messages == []
    # whatever happened, the server saw this message at most once ...
    assert sink.data_received <= 1
    # ... and later rounds never deliver it a second time (a retry may deliver it once)
    for _ in range(3):
        clock.advance(timedelta(hours=2))
        tick(db, clock, settings)
        send_due(db, clock, settings, _short_timeouts)
    assert sink.data_received <= 1 and len(sink.messages) <= 1


def test_temporary_failures_back_off_then_give_up(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    message = _run(db, clock, settings, "erik@beta.example", sink, Fault.RCPT_451)
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
    assert "gave up after 5 attempts: 451 4.7.1 Greylisted" in (final.last_error or "")
    assert _enrollment(db).state == EnrollmentState.PAUSED
    assert sink.data_received == 0  # refused at RCPT: no DATA ever reached the server


def test_unreachable_server_is_a_retry_not_a_loss(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), ["erik@beta.example"], smtp_url="smtp://127.0.0.1:9")
    tick(db, clock, settings)
    advance_to_due(db, clock)
    report = send_due(db, clock, settings, smtp_mailer_factory)
    assert report.retried == 1
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
    assert message.state == MessageState.PLANNED and "connect" in (message.last_error or "").lower()


def test_refused_login_pauses_the_mailbox_and_keeps_the_message(
    db: Database, clock: VirtualClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KADENZ_TEST_ANNA_PASSWORD", "wrong")
    with SmtpSink(auth=("anna", "secret")) as sink:
        url = sink.url.replace("smtp://", "smtp://anna@")
        with db.session() as s:
            build_world(
                s, clock.now(), ["erik@beta.example"], smtp_url=url,
                password_env="KADENZ_TEST_ANNA_PASSWORD",
            )  # fmt: skip
        tick(db, clock, settings)
        send_due(db, clock, settings)
        assert sink.data_received == 0
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
        mailbox = s.scalars(select(Mailbox)).one()
    assert message.state == MessageState.PLANNED and message.attempts == 0
    assert mailbox.paused and (mailbox.paused_reason or "").startswith("SMTP login failed")
    assert "wrong" not in (mailbox.paused_reason or "")  # never the secret

"""Caps hold messages with a reason; suppression, missing data, windows and tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import EnrollmentState, MessageState, TaskState
from engine.mail.smtp import SmtpSender
from engine.mail.urls import parse_smtp_url
from engine.outbound.leases import resolve_expired, resolve_expired_leases
from engine.outbound.limits.caps import MemoryRateLimiter
from engine.outbound.outcomes import check_breaker
from engine.outbound.resolve import resolve_ambiguous
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.people import suppression, task_queue
from engine.people.tasks import complete_task
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    Event,
    Mailbox,
    OutboundMessage,
    Prospect,
    SequenceVersion,
    Task,
)
from tests.integration.sending.factory import (
    BASIC_SPEC,
    advance_to_due,
    build_world,
    enroll,
    make_prospect,
    received,
    sent_message,
)
from tests.support.smtp_server import SmtpSink

EMAILS = [f"p{i}@beta{i}.example" for i in range(5)]


def _messages(db: Database) -> list[OutboundMessage]:
    with db.session() as s:
        return list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_daily_cap_holds_the_rest_with_a_reason(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), EMAILS, smtp_url=sink.url, daily_cap=2)
    tick(db, clock, settings)
    advance_to_due(db, clock)
    limiter = MemoryRateLimiter()
    report = send_due(db, clock, settings, limiter=limiter)
    assert (report.sent, report.held) == (2, 3)
    held = [m for m in _messages(db) if m.state == MessageState.PLANNED]
    first_send = min(m.sent_at for m in _messages(db) if m.sent_at)
    for m in held:
        assert m.held_reason is not None
        assert m.held_reason.startswith("daily cap 2 reached for mailbox anna; next capacity")
        assert m.not_before == first_send + timedelta(hours=24)
    # nothing more goes out before capacity frees, however often we try
    clock.advance(timedelta(hours=3))
    assert send_due(db, clock, settings, limiter=limiter).sent == 0
    # a caller without a limiter (a worker, a cron job) gets one that knows today's sends
    assert send_due(db, clock, settings).sent == 0
    assert len(sink.messages) == 2
    with db.session() as s:
        assert s.scalars(select(Event).where(Event.type == "message.held")).all()


def test_suppression_is_checked_at_send_time(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:2], smtp_url=sink.url)
    tick(db, clock, settings)
    with db.session() as s:  # an opt-out arrives between planning and sending
        suppression.add(s, "@beta0.example", reason="unsubscribe", at=clock.now())
    advance_to_due(db, clock)
    report = send_due(db, clock, settings)
    assert (report.sent, report.cancelled) == (1, 1)
    cancelled = next(m for m in _messages(db) if m.state == MessageState.CANCELLED)
    assert cancelled.to_address == "p0@beta0.example"
    with db.session() as s:
        e = s.get(Enrollment, cancelled.enrollment_id)
        assert e is not None and e.state == EnrollmentState.STOPPED
        assert e.state_reason == "suppressed (unsubscribe)"
    assert [str(m["To"]) for m in received(sink)] == ["P1 <p1@beta1.example>"]


def test_missing_variable_pauses_and_asks_the_owner(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:1])
        s.scalars(select(Prospect)).one().company = None
    report = tick(db, clock, settings)
    assert report.paused == 1 and _messages(db) == []
    with db.session() as s:
        e = s.scalars(select(Enrollment)).one()
        task = s.scalars(select(Task)).one()
    assert e.state == EnrollmentState.PAUSED and e.state_reason == "missing variable: company"
    assert task.title == "Fill in company for p0@beta0.example"
    assert task.owner == "sdr@acme.example" and task.state == TaskState.OPEN


def test_a_window_that_closed_re_plans_the_message(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:1], smtp_url=sink.url)
    tick(db, clock, settings)
    clock.advance(timedelta(hours=9))  # 18:00 in Berlin: the window is closed
    report = send_due(db, clock, settings)
    assert report.replanned == 1 and sink.data_received == 0
    (m,) = _messages(db)
    assert m.state == MessageState.PLANNED
    assert m.held_reason and m.held_reason.startswith(
        "outside the send window; next slot 2026-03-03"
    )
    local = m.not_before.astimezone(ZoneInfo("Europe/Berlin"))
    assert local.date().isoformat() == "2026-03-03" and 9 <= local.hour < 17
    assert "Europe/Berlin (prospect timezone)" in m.held_reason


def test_blocking_call_waits_for_the_person(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    spec = dict(BASIC_SPEC)
    spec["steps"] = [
        {
            "id": "call-1",
            "type": "call",
            "title": "Call {{ first_name }} at {{ company }}",
            "due": "1 business day",
            "blocking": True,
        },
        {"id": "note", "type": "task", "title": "Log notes", "blocking": False},
    ]
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:1], spec=spec)
    assert tick(db, clock, settings).tasks_created == 1
    with db.session() as s:
        e = s.scalars(select(Enrollment)).one()
        task = s.scalars(select(Task)).one()
    assert e.state == EnrollmentState.WAITING and task.title == "Call P0 at Example GmbH"
    assert task.due_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # next business day, same time
    assert tick(db, clock, settings).executed == 0  # nothing runs while it waits
    clock.advance(timedelta(hours=2))
    with db.session() as s:
        complete_task(s, task.id, "connected", clock.now())
    report = tick(db, clock, settings)
    assert report.tasks_created == 1 and report.finished == 1
    with db.session() as s:
        assert s.scalars(select(Enrollment)).one().state == EnrollmentState.FINISHED
        # the non-blocking to-do outlives the sequence: it stays open in the queue
        note = s.scalars(select(Task).where(Task.step_id == "note")).one()
        assert note.state == TaskState.OPEN
        queued = task_queue.queue(s, clock.now(), include_later=True)
        assert [item.task.id for item in queued] == [note.id]


def test_expired_lease_becomes_ambiguous_and_a_person_resolves_it(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:1])
    tick(db, clock, settings)
    with db.session() as s:  # a sender claimed it, began its transaction, then died
        m = s.scalars(select(OutboundMessage)).one()
        m.state, m.lease_until, m.attempts = MessageState.SENDING, clock.now(), 1
        m.claim_token, m.smtp_started_at = "a" * 32, clock.now()
    assert resolve_expired(db, clock) == []  # not yet expired
    clock.advance(timedelta(seconds=1))
    assert resolve_expired(db, clock) == [m.id]
    (m,) = _messages(db)
    assert m.state == MessageState.AMBIGUOUS and "lease expired" in (m.last_error or "")
    clock.advance(timedelta(hours=1))
    assert send_due(db, clock, settings).claimed == 0  # never retried automatically
    with db.session() as s:
        resolve_ambiguous(s, m.id, delivered=True, at=clock.now())
    (m,) = _messages(db)
    assert m.state == MessageState.SENT
    with db.session() as s:
        assert s.scalars(select(Enrollment)).one().next_run_at is not None


@pytest.mark.parametrize(
    ("sends", "bounces", "pauses"),
    [(60, 4, True), (20, 2, False), (100, 2, False), (100, 4, False)],
)
def test_bounce_rate_breaker_pauses_the_mailbox(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    sends: int,
    bounces: int,
    pauses: bool,
) -> None:
    """At least 50 sends, 3 hard bounces and 5 %: fewer is noise, not a bad list."""
    now = clock.now()
    with db.session() as s:
        world = build_world(s, now, [f"x{i}@beta.example" for i in range(sends)])
        for i, eid in enumerate(world.enrollment_ids):
            bounced = i < bounces
            s.add(
                sent_message(
                    s,
                    world,
                    eid,
                    now,
                    to=f"x{i}@beta.example",
                    state=MessageState.BOUNCED if bounced else MessageState.SENT,
                    smtp_status="5.1.1" if bounced else "2.0.0",
                )
            )
    with db.session() as s:
        assert check_breaker(s, world.mailbox_id, now) is pauses
    with db.session() as s:
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None and mailbox.paused is pauses
    if pauses:
        assert (mailbox.paused_reason or "").startswith(
            "bounce-rate breaker: 4 hard bounces in the last 60 sends (7% ≥ 5%)"
        )


def test_follow_ups_go_first_but_first_touches_keep_a_fifth(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    spec = {**BASIC_SPEC, "steps": [BASIC_SPEC["steps"][0], BASIC_SPEC["steps"][2]]}  # intro, bump
    with db.session() as s:
        world = build_world(
            s, clock.now(), [f"f{i}@beta{i}.example" for i in range(8)], spec=spec,
            smtp_url=sink.url, daily_cap=100,
        )  # fmt: skip
    limiter = MemoryRateLimiter()
    tick(db, clock, settings)
    send_due(db, clock, settings, limiter=limiter)  # 8 intros sent: 8 follow-ups are owed
    tick(db, clock, settings)  # 8 bumps planned (no wait between the steps)
    with db.session() as s:
        version = s.get(SequenceVersion, world.version_id)
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert version is not None and mailbox is not None
        for i in range(4):  # 4 new prospects, due at the same moment
            enroll(s, clock.now(), make_prospect(s, clock.now(), f"n{i}@new{i}.example"),
                   version, mailbox)  # fmt: skip
        mailbox.daily_cap = 8 + 5  # room for 5 more sends today
    tick(db, clock, settings)
    report = send_due(db, clock, settings, limiter=limiter)
    assert (report.sent, report.held) == (5, 7)
    sent_now = [m for m in received(sink)[8:]]
    first_touches = [m for m in sent_now if str(m["To"]).startswith("N")]
    assert len(first_touches) == 1 and len(sent_now) - len(first_touches) == 4


def test_a_claimed_message_whose_sender_died_before_starting_goes_back_to_planned(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    """Claimed, never started: no transaction was opened, so it is planned again, with the
    same Message-ID, and the next claim sends it once."""
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:1], smtp_url=sink.url)
    tick(db, clock, settings)
    with db.session() as s:  # a sender claimed it, then its process died before MAIL FROM
        m = s.scalars(select(OutboundMessage)).one()
        m.state, m.lease_until, m.attempts = MessageState.SENDING, clock.now(), 1
        m.claim_token = "b" * 32
        message_id = m.message_id
    clock.advance(timedelta(seconds=1))
    expired = resolve_expired_leases(db, clock)
    assert (expired.ambiguous, expired.replanned) == ([], [m.id])
    (m,) = _messages(db)
    assert (m.state, m.attempts, m.claim_token) == (MessageState.PLANNED, 0, None)
    assert "before the SMTP transaction began" in (m.held_reason or "")
    assert send_due(db, clock, settings).sent == 1
    (m,) = _messages(db)
    assert (m.state, m.message_id, m.attempts) == (MessageState.SENT, message_id, 1)
    assert [str(r["Message-ID"]).strip("<>") for r in received(sink)] == [message_id]


def test_a_queued_message_re_planned_meanwhile_is_never_sent_by_its_old_claim(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    """The lease ran out while the message waited its turn: it is no longer ours to send."""
    settings.send_lease_seconds = 30
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:2], smtp_url=sink.url)
    tick(db, clock, settings)

    @asynccontextmanager
    async def slow_to_connect(mailbox: Mailbox, password: str | None) -> AsyncIterator[SmtpSender]:
        clock.advance(timedelta(seconds=31))  # e.g. a long queue of other messages
        expired = resolve_expired_leases(db, clock)  # another process's resolver runs
        assert (len(expired.replanned), expired.ambiguous) == (2, [])
        async with SmtpSender(parse_smtp_url(mailbox.smtp_url), password=password) as sender:
            yield sender

    report = send_due(db, clock, settings, slow_to_connect)
    assert report.claimed == 2 and report.sent == 0
    assert sink.data_received == 0
    assert {m.state for m in _messages(db)} == {MessageState.PLANNED}
    assert send_due(db, clock, settings).sent == 2  # the next claim sends each once
    assert sink.data_received == 2


def test_a_long_queue_renews_the_lease_before_each_send(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    settings.send_lease_seconds = 30  # shorter than one SMTP transaction may take
    with db.session() as s:
        build_world(s, clock.now(), EMAILS[:2], smtp_url=sink.url)
    tick(db, clock, settings)
    assert send_due(db, clock, settings).sent == 2
    assert resolve_expired(db, clock) == []


def test_a_pause_with_an_end_resumes_by_itself(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    with db.session() as s:
        world = build_world(s, clock.now(), EMAILS[:1])
        e = s.get(Enrollment, world.enrollment_ids[0])
        assert e is not None
        e.state, e.next_run_at = EnrollmentState.PAUSED, None
        e.paused_until = clock.now() + timedelta(days=2)  # out of office until Wednesday
    assert tick(db, clock, settings).executed == 0
    clock.advance(timedelta(days=2))
    report = tick(db, clock, settings)
    assert (report.resumed, report.emails_planned) == (1, 1)

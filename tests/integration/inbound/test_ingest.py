"""Ingest on both databases with complete RFC 5322 messages: match, act, dedupe, survive."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.inbound.ingest import ingest
from engine.people import suppression
from engine.people.resume import resume_due
from engine.store.db import Database
from engine.store.models import Enrollment, Event, InboundMessage, OutboundMessage, Prospect, Task
from tests.support.inbound_world import (
    complaint,
    dsn,
    enroll_and_send,
    german_reply,
    make_world,
    out_of_office,
    reply,
    standin_classify,
)


def _ingest(db: Database, clock: VirtualClock, raw: bytes, **kw: object):  # type: ignore[no-untyped-def]
    return ingest(db, clock, raw, source="file", classifier=standin_classify, **kw)  # type: ignore[arg-type]


def _enrollment(db: Database, enrollment_id: int) -> Enrollment:
    with db.session() as s:
        row = s.get(Enrollment, enrollment_id)
        assert row is not None
        return row


def _event_types(db: Database, enrollment_id: int) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(
                select(Event.type).where(Event.enrollment_id == enrollment_id).order_by(Event.id)
            )
        )


def test_reply_to_a_sent_email_stops_the_sequence(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    clock.advance(timedelta(hours=5))

    result = _ingest(db, clock, reply(erik, "Sounds good, let's talk on Tuesday.", at=clock.now()))

    assert (result.kind, result.intent, result.matched_by) == ("human_reply", "positive", "thread")
    assert result.prospect_id == erik.prospect_id
    enrollment = _enrollment(db, erik.enrollment_id)
    assert enrollment.state == "stopped"
    assert enrollment.next_run_at is None
    types = _event_types(db, erik.enrollment_id)
    assert {"inbound.received", "reply.received", "enrollment.stopped", "task.created"} <= set(
        types
    )
    with db.session() as s:
        task = s.scalars(select(Task)).one()
        assert task.title == "Book a meeting with Erik"
        assert task.owner == "sdr-anna"
        assert s.get(Prospect, erik.prospect_id).score == 50  # type: ignore[union-attr]
        reply_event = s.scalars(select(Event).where(Event.type == "reply.received")).one()
        assert reply_event.data == {"intent": "positive"}
        assert reply_event.outbound_id == erik.outbound_id
        assert reply_event.step_id == "intro"


def test_german_reply_with_quote_is_matched_and_stops(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")

    result = _ingest(db, clock, german_reply(erik, at=clock.now()))

    assert result.kind == "human_reply" and result.matched_by == "thread"
    assert _enrollment(db, erik.enrollment_id).state == "stopped"
    with db.session() as s:
        row = s.get(InboundMessage, result.inbound_id)
        assert row is not None
        assert "schrieb" not in (row.data["classification"]["reply_text"] or "")
        assert row.evidence  # the classifier's evidence is kept


def test_out_of_office_pauses_and_resume_due_resumes(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    back = date(2026, 3, 13)  # a Friday: resume Monday 16th, 09:00 Berlin

    result = _ingest(db, clock, out_of_office(erik, back, at=clock.now()))

    assert result.kind == "auto_reply"
    enrollment = _enrollment(db, erik.enrollment_id)
    assert enrollment.state == "paused"
    assert enrollment.paused_until == datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    assert resume_due(db, clock) == 0  # not yet
    clock.set(datetime(2026, 3, 16, 7, 59, tzinfo=UTC))
    assert resume_due(db, clock) == 0
    clock.set(datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    assert resume_due(db, clock) == 1
    enrollment = _enrollment(db, erik.enrollment_id)
    assert (enrollment.state, enrollment.next_run_at) == ("active", clock.now())
    assert enrollment.paused_until is None
    assert _event_types(db, erik.enrollment_id)[-1] == "enrollment.resumed"
    with db.session() as s:  # an out-of-office is never counted as a reply
        assert s.scalars(select(Event).where(Event.type == "reply.received")).first() is None


def test_out_of_office_without_a_date_pauses_seven_days(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    raw = reply(
        erik,
        "I am out of the office with no access to email.",
        at=clock.now(),
        headers={"Auto-Submitted": "auto-replied"},
    )
    _ingest(db, clock, raw)
    assert _enrollment(db, erik.enrollment_id).paused_until == clock.now() + timedelta(days=7)


def test_hard_bounce_suppresses_and_stops(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")

    result = _ingest(db, clock, dsn(erik, status="5.1.1", at=clock.now()))

    assert (result.kind, result.matched_by) == ("hard_bounce", "dsn_original")
    with db.session() as s:
        assert s.get(OutboundMessage, erik.outbound_id).state == "bounced"  # type: ignore[union-attr]
        found = suppression.find(s, "Erik@acme.example")
        assert found is not None and found.reason == "hard_bounce"
        assert found.source == f"inbound:{result.inbound_id}"
    assert _enrollment(db, erik.enrollment_id).state == "stopped"
    types = _event_types(db, erik.enrollment_id)
    assert "bounce.received" in types and "message.bounced" in types


def test_bounce_without_original_id_matches_by_recipient(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    raw = dsn(erik, at=clock.now()).replace(erik.message_id.encode(), b"lost@elsewhere.example")
    result = _ingest(db, clock, raw)
    assert result.matched_by == "dsn_recipient" and result.prospect_id == erik.prospect_id


def test_soft_bounces_stop_after_three(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    for _ in range(2):
        _ingest(db, clock, dsn(erik, status="4.2.2", at=clock.now()))
        assert _enrollment(db, erik.enrollment_id).state == "active"
    _ingest(db, clock, dsn(erik, status="4.2.2", at=clock.now()))
    assert _enrollment(db, erik.enrollment_id).state == "stopped"
    with db.session() as s:
        assert suppression.find(s, erik.email) is None  # a full mailbox keeps the address
        assert s.get(OutboundMessage, erik.outbound_id).state == "sent"  # type: ignore[union-attr]


def test_a_sequence_sets_its_own_soft_bounce_limit(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now(), spec={"soft_bounce_limit": 1})
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    _ingest(db, clock, dsn(erik, status="4.2.2", at=clock.now()))
    assert _enrollment(db, erik.enrollment_id).state == "stopped"


def test_blocked_counts_against_the_mailbox_only(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    _ingest(db, clock, dsn(erik, status="5.7.1", at=clock.now()))
    assert _enrollment(db, erik.enrollment_id).state == "active"
    with db.session() as s:
        assert suppression.find(s, erik.email) is None
        bounce = s.scalars(select(Event).where(Event.type == "bounce.received")).one()
        assert bounce.mailbox_id == world.mailbox_id and bounce.data["kind"] == "blocked"


def test_delivered_dsn_is_not_a_bounce(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    result = _ingest(db, clock, dsn(erik, status="2.0.0", at=clock.now()))
    assert result.kind == "delivered"
    assert _enrollment(db, erik.enrollment_id).state == "active"
    assert _event_types(db, erik.enrollment_id) == ["inbound.received"]


def test_complaint_suppresses_and_stops_every_sequence(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    result = _ingest(db, clock, complaint(erik, at=clock.now()))
    assert result.kind == "complaint"
    with db.session() as s:
        found = suppression.find(s, erik.email)
        assert found is not None and found.reason == "complaint"
        types = set(s.scalars(select(Event.type)))
    assert _enrollment(db, erik.enrollment_id).state == "stopped"
    assert str(EventType.COMPLAINT_RECEIVED) in types


def test_unsubscribe_reply_suppresses(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    _ingest(db, clock, reply(erik, "Please remove me from your list.", at=clock.now()))
    with db.session() as s:
        found = suppression.find(s, erik.email)
        assert found is not None and found.reason == "unsubscribe"
        assert s.scalars(select(Event).where(Event.type == "prospect.unsubscribed")).one()
    assert _enrollment(db, erik.enrollment_id).state == "stopped"


def test_duplicate_ingest_is_a_no_op(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    raw = reply(erik, "Interested!", at=clock.now())
    first = _ingest(db, clock, raw)
    with db.session() as s:
        events_before = len(list(s.scalars(select(Event.id))))
    second = _ingest(db, clock, raw)
    assert (second.duplicate, second.inbound_id, first.duplicate) == (True, first.inbound_id, False)
    with db.session() as s:
        assert len(list(s.scalars(select(InboundMessage.id)))) == 1
        assert len(list(s.scalars(select(Event.id)))) == events_before
        assert len(list(s.scalars(select(Task.id)))) == 1


def test_garbage_bytes_are_stored_unclassified(db: Database, clock: VirtualClock) -> None:
    garbage = b"\x00\xff\xfe not a message at all \r\n\r\n\x80\x81"
    result = _ingest(db, clock, garbage)
    again = _ingest(db, clock, garbage)
    assert result.kind == "unclassified" and not result.duplicate and again.duplicate
    with db.session() as s:
        row = s.get(InboundMessage, result.inbound_id)
        assert row is not None and row.raw == garbage
        assert row.dedupe_key.startswith("sha256:")


def test_a_crashing_classifier_still_stores_the_message(db: Database, clock: VirtualClock) -> None:
    def broken(raw: bytes):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    raw = b"From: someone@acme.example\r\nMessage-ID: <x1@acme.example>\r\n\r\nhello\r\n"
    result = ingest(db, clock, raw, source="file", classifier=broken)
    assert result.kind == "unclassified" and result.error and "boom" in result.error
    with db.session() as s:
        row = s.get(InboundMessage, result.inbound_id)
        assert row is not None and row.dedupe_key == "mid:x1@acme.example"
        assert "boom" in row.data["error"]


def test_a_bug_in_the_actions_keeps_the_raw_message(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    from engine.inbound import actions as inbound_actions

    original = inbound_actions.process

    def exploding(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("bug in a later stage")

    inbound_actions.process = exploding  # type: ignore[assignment]
    try:
        result = _ingest(db, clock, reply(erik, "Interested", at=clock.now()))
    finally:
        inbound_actions.process = original  # type: ignore[assignment]
    assert result.error and "bug in a later stage" in result.error
    assert _enrollment(db, erik.enrollment_id).state == "active"
    with db.session() as s:
        row = s.get(InboundMessage, result.inbound_id)
        assert row is not None and row.classification == "human_reply"
        assert "bug in a later stage" in row.data["error"]


def test_company_reply_stops_colleagues_but_not_for_free_mail(
    db: Database, clock: VirtualClock
) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(
        db, world, clock.now(), "erik@acme.example", account_domain="acme.example"
    )
    jana = enroll_and_send(
        db, world, clock.now(), "jana@acme.example", account_domain="acme.example"
    )
    gina = enroll_and_send(db, world, clock.now(), "gina@gmail.com")
    gabi = enroll_and_send(db, world, clock.now(), "gabi@gmail.com")

    _ingest(db, clock, reply(erik, "Not interested, thanks.", at=clock.now()))
    assert _enrollment(db, erik.enrollment_id).state == "stopped"
    assert _enrollment(db, jana.enrollment_id).state == "stopped"
    assert "company reply" in (_enrollment(db, jana.enrollment_id).state_reason or "")

    _ingest(db, clock, reply(gina, "Not interested.", at=clock.now()))
    assert _enrollment(db, gina.enrollment_id).state == "stopped"
    assert _enrollment(db, gabi.enrollment_id).state == "active"


def test_a_colleague_who_is_no_prospect_stops_the_account(
    db: Database, clock: VirtualClock
) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(
        db, world, clock.now(), "erik@acme.example", account_domain="acme.example"
    )
    raw = reply(erik, "I handle this for Erik; not now.", sender="ceo@acme.example", at=clock.now())
    raw = raw.replace(b"In-Reply-To", b"X-Old-In-Reply-To").replace(b"References", b"X-Old-Refs")
    result = _ingest(db, clock, raw)
    assert result.matched_by == "company_domain"
    assert _enrollment(db, erik.enrollment_id).state == "stopped"


def test_reply_without_thread_headers_matches_the_sender(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "Erik@Acme.example")
    raw = reply(erik, "Hi, saw your mail.", sender="erik@acme.example", at=clock.now())
    raw = raw.replace(b"In-Reply-To", b"X-Old-In-Reply-To").replace(b"References", b"X-Old-Refs")
    result = _ingest(db, clock, raw)
    assert (result.matched_by, result.prospect_id) == ("sender", erik.prospect_id)
    assert _enrollment(db, erik.enrollment_id).state == "stopped"


def test_rules_override_defaults_and_score(db: Database, clock: VirtualClock) -> None:
    from engine.sequence_language.model import RuleSpec, ScoringSpec

    raw_rules = [
        {
            "when": {"reply": "positive"},
            "then": {"stop": True, "task": "Book a meeting with {{ first_name }}"},
        },
        {"when": {"reply": "negative"}, "then": {"score": -5}},
        {
            "when": {"auto_reply": "out_of_office"},
            "then": {"pause_until": "return_date", "otherwise_pause": "3 days"},
        },
    ]
    spec = {  # as SequenceVersion.spec stores it: validated, dumped to JSON
        "stop_on": ["bounce", "unsubscribe"],  # replies stop only by rule
        "rules": [RuleSpec.model_validate(r).model_dump(mode="json") for r in raw_rules],
        "scoring": ScoringSpec.model_validate(
            {
                "points": {"reply.positive": 30},
                "thresholds": [{"at": 25, "then": {"notify": "lead-sam"}}],
            }
        ).model_dump(mode="json"),
    }
    world = make_world(db, clock.now(), spec=spec)
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    _ingest(db, clock, reply(erik, "Not interested right now.", at=clock.now()))
    assert _enrollment(db, erik.enrollment_id).state == "active"  # a "no" does not stop here
    with db.session() as s:
        assert s.get(Prospect, erik.prospect_id).score == -5  # type: ignore[union-attr]

    kai = enroll_and_send(db, world, clock.now(), "kai@beta.example")
    raw = reply(
        kai,
        "I am out of the office with no access to email.",
        at=clock.now(),
        headers={"Auto-Submitted": "auto-replied"},
    )
    _ingest(db, clock, raw)
    assert _enrollment(db, kai.enrollment_id).paused_until == clock.now() + timedelta(days=3)

    _ingest(db, clock, reply(kai, "Interested, let's talk", at=clock.now()))
    with db.session() as s:
        assert s.get(Prospect, kai.prospect_id).score == 30  # type: ignore[union-attr]
        owners = {t.owner: t.title for t in s.scalars(select(Task))}
    assert "lead-sam" in owners and owners["sdr-anna"] == "Book a meeting with Erik"


def test_two_workers_ingesting_the_same_message_process_it_once(
    db: Database, clock: VirtualClock
) -> None:
    import threading

    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    raw = reply(erik, "Interested!", at=clock.now())
    barrier = threading.Barrier(4)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        results.append(_ingest(db, clock, raw))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.duplicate for r in results) == [False, True, True, True]  # type: ignore[attr-defined]
    assert len({r.inbound_id for r in results}) == 1  # type: ignore[attr-defined]
    with db.session() as s:
        assert len(list(s.scalars(select(Task.id)))) == 1
        assert len(list(s.scalars(select(Event).where(Event.type == "reply.received")))) == 1


def test_resume_waits_for_a_planned_email_to_be_sent(db: Database, clock: VirtualClock) -> None:
    """After an email step next_run_at is NULL until the sender sends it: resuming keeps that."""
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    with db.session() as s:
        enrollment = s.get(Enrollment, erik.enrollment_id)
        outbound = s.get(OutboundMessage, erik.outbound_id)
        assert enrollment is not None and outbound is not None
        enrollment.next_run_at = None
        outbound.state = "planned"  # the bump is planned, held while paused
    _ingest(db, clock, out_of_office(erik, date(2026, 3, 13), at=clock.now()))
    clock.set(datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    assert resume_due(db, clock) == 1
    enrollment = _enrollment(db, erik.enrollment_id)
    assert (enrollment.state, enrollment.next_run_at) == ("active", None)


def test_nul_characters_never_lose_a_message(db: Database, clock: VirtualClock) -> None:
    from engine.core.classification import Classification, InboundClass

    raw = (
        b"From: Erik <erik@acme.example>\r\nSubject: nul\x00here\r\n"
        b"Message-ID: <nul-1@acme.example>\r\n\r\nbody with \x00 inside\r\n"
    )

    def with_nul(data: bytes) -> Classification:
        return Classification(
            InboundClass.HUMAN_REPLY,
            0.5,
            ("phrase \x00",),
            subject="nul\x00here",
            from_address="erik@acme.example",
            message_id="nul-1@acme.example",
            reply_text="body with \x00 inside",
            extra={"k\x00": "v\x00"},
        )

    result = ingest(db, clock, raw, source="file", classifier=with_nul)
    assert not result.duplicate and result.kind == "human_reply"
    with db.session() as s:
        row = s.get(InboundMessage, result.inbound_id)
        assert row is not None and row.raw == raw and row.subject == "nulhere"

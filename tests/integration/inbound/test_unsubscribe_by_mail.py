"""Unsubscribe by mail (issue 16): a message to our List-Unsubscribe mailto address, or a
reply that asks to be removed, suppresses the sender and stops their enrollments; once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.inbound.ingest import ingest
from engine.inbound.reclassify import reclassify
from engine.people import suppression
from engine.store.db import Database
from engine.store.models import Enrollment, Event, Prospect
from tests.support.inbound_world import enroll_and_send, make_world, reply, unsubscribe_mail


def _count(db: Database, type: EventType) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Event.id)).where(Event.type == type.value)) or 0


def _state(db: Database, enrollment_id: int) -> str:
    with db.session() as s:
        row = s.get(Enrollment, enrollment_id)
        assert row is not None
        return row.state


def _score(db: Database, prospect_id: int) -> int:
    with db.session() as s:
        prospect = s.get(Prospect, prospect_id)
        assert prospect is not None
        return prospect.score


def test_mail_to_the_unsubscribe_address_suppresses_once(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    # Someone else's enrollment is untouched.
    other = enroll_and_send(db, world, clock.now(), "jana@beta.example", first_name="Jana")

    first = ingest(
        db, clock, unsubscribe_mail("Erik <Erik@Acme.example>", at=clock.now()), source="file"
    )

    assert (first.kind, first.intent, first.matched_by) == (
        "human_reply",
        "unsubscribe_request",
        "sender",
    )
    assert _state(db, erik.enrollment_id) == "stopped"
    assert _state(db, other.enrollment_id) == "active"
    with db.session() as s:
        row = suppression.find(s, "erik@acme.example")
        assert row is not None
        assert (row.reason, row.source) == ("unsubscribe", f"inbound:{first.inbound_id}")
        event = s.scalars(select(Event).where(Event.type == EventType.UNSUBSCRIBED.value)).one()
        assert event.data == {"via": "mail", "evidence": 'subject "unsubscribe"'}
        assert event.inbound_id == first.inbound_id
    score = _score(db, erik.prospect_id)

    again = ingest(
        db,
        clock,
        unsubscribe_mail("erik@acme.example", at=clock.now(), subject="Abmelden"),
        source="file",
    )

    assert not again.duplicate and again.intent == "unsubscribe_request"
    assert any("already unsubscribed: nothing changed" in note for note in again.actions)
    assert _count(db, EventType.UNSUBSCRIBED) == 1
    assert _count(db, EventType.SUPPRESSED) == 1
    assert _count(db, EventType.REPLY_RECEIVED) == 1
    assert _score(db, erik.prospect_id) == score


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Re: Quick question, Erik", "Please take me off your list."),
        ("AW: Quick question, Erik", "Bitte nehmen Sie mich aus Ihrem Verteiler."),
        ("RE: Quick question, Erik", "Merci de me désabonner."),
        ("RE: Quick question, Erik", "Por favor, denme de baja."),
        ("Désinscription", ""),
        ("Baja", ""),
    ],
)
def test_requests_in_four_languages(
    db: Database, clock: VirtualClock, subject: str, body: str
) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    raw = (
        reply(erik, body, subject=subject, at=clock.now())
        if body
        else unsubscribe_mail(erik.email, subject=subject, at=clock.now())
    )
    result = ingest(db, clock, raw, source="file")
    assert result.intent == "unsubscribe_request", result
    assert _state(db, erik.enrollment_id) == "stopped"
    with db.session() as s:
        assert suppression.find(s, erik.email) is not None


def test_a_reply_quoting_our_footer_is_not_an_unsubscribe(
    db: Database, clock: VirtualClock
) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    body = (
        "Thanks Anna, happy to chat on Thursday.\n\n"
        "On Mon, 2 Mar 2026 at 09:00, Anna <anna@kadenz.example> wrote:\n"
        "> Hi Erik, quick question ...\n>\n"
        '> Not interested? Reply "unsubscribe" and I will not write again.\n'
    )
    result = ingest(db, clock, reply(erik, body, at=clock.now()), source="file")
    assert (result.kind, result.intent) == ("human_reply", "positive")
    with db.session() as s:
        assert suppression.find(s, erik.email) is None
    assert _count(db, EventType.UNSUBSCRIBED) == 0


def test_unsubscribe_from_someone_we_never_wrote_to(db: Database, clock: VirtualClock) -> None:
    make_world(db, clock.now())
    result = ingest(
        db, clock, unsubscribe_mail("stranger@else.example", at=clock.now()), source="file"
    )
    assert result.intent == "unsubscribe_request" and result.matched_by is None
    with db.session() as s:
        assert suppression.find(s, "stranger@else.example") is not None  # never write to them


def test_reclassify_undoes_an_unsubscribe_by_mail(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    first = ingest(db, clock, unsubscribe_mail(erik.email, at=clock.now()), source="file")
    reclassify(db, clock, first.inbound_id, "human_reply", intent="neutral", by="sam")
    with db.session() as s:
        assert suppression.find(s, erik.email) is None
    # the neutral reply still stops the sequence (a reply), but no longer opts the address out
    assert _state(db, erik.enrollment_id) == "stopped"

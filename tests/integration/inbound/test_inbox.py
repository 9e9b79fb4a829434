"""The SDR inbox: a human reply needs a person; answering it sends one email in the thread,
through the normal send path, to a real SMTP server; done and notes keep it tidy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState
from engine.errors import InvalidInput, NotFound
from engine.inbound import inbox
from engine.inbound.ingest import ingest
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.reporting import reports, rollups
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Event, OutboundMessage
from tests.integration.sending.factory import build_world, received
from tests.support import mailbuilder
from tests.support.smtp_server import SmtpSink

ERIK = "erik@beta.example"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, secret_key="test-secret", public_url="https://k.acme.example")


def _world(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> OutboundMessage:
    with db.session() as s:
        build_world(s, clock.now(), [ERIK], smtp_url=sink.url)
    tick(db, clock, settings)
    send_due(db, clock, settings)
    with db.session() as s:
        return s.scalars(select(OutboundMessage)).one()


def _reply_to(first: OutboundMessage, body: str) -> bytes:
    return mailbuilder.reply(
        body,
        sender=f"Erik Lund <{ERIK}>",
        subject=f"Re: {first.subject}",
        in_reply_to=f"<{first.message_id}>",
    )


def test_answering_a_reply_sends_once_in_the_thread(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    first = _world(db, clock, settings, sink)
    clock.advance(timedelta(hours=3))
    got = ingest(
        db, clock, _reply_to(first, "Interesting. What does it cost for 20 seats?"), source="test"
    )
    with db.session() as s:
        [item] = inbox.items(s)
        assert item.id == got.inbound_id and item.classification == "human_reply"
        assert item.prospect == ERIK and "20 seats" in item.text
        assert s.scalars(select(Enrollment)).one().state == EnrollmentState.STOPPED
    clock.advance(timedelta(minutes=10))
    with db.session() as s:
        planned = inbox.reply(
            s,
            settings,
            item.id,
            text="Hi Erik,\n\n20 seats are 400 EUR a month.\n\nAnna",
            key="k1",
            by="anna",
            at=clock.now(),
        )
        again = inbox.reply(  # a double click is the same answer
            s, settings, item.id, text="Hi Erik (again)", key="k1", by="anna", at=clock.now()
        )
        assert again.id == planned.id
    report = send_due(db, clock, settings)
    assert report.sent == 1
    send_due(db, clock, settings)  # nothing more to send
    answers = [m for m in received(sink) if "400 EUR" in m.get_body(("plain",)).get_content()]
    assert len(answers) == 1 and len(sink.messages) == 2
    answer = answers[0]
    assert answer["Subject"] == f"Re: {first.subject}"
    assert answer["In-Reply-To"] == "<CAF=reply.123@mail.acme.example>"
    refs = str(answer["References"]).split()
    assert refs == [f"<{first.message_id}>", "<CAF=reply.123@mail.acme.example>"]
    assert "20 seats?" in answer.get_body(("plain",)).get_content()  # quoted below
    with db.session() as s:
        sent = s.get(OutboundMessage, planned.id)
        assert sent is not None and sent.state == MessageState.SENT
        # The sequence stays stopped; the answer is on the prospect's timeline.
        assert s.scalars(select(Enrollment)).one().state == EnrollmentState.STOPPED
        kinds = [e.type for e in s.scalars(select(Event).order_by(Event.id))]
        assert EventType.INBOX_REPLIED in kinds
        assert inbox.items(s) == []  # answered: out of the inbox
        assert len(inbox.items(s, include_handled=True)) == 1
    # Reports: the answer is neither a first contact nor a step's email.
    rollups.refresh_rollups(db)
    with db.session() as s:
        by_step = reports.build_report(s, by="step")
    assert all(not r.group.split(" / ")[-1].startswith("inbox-reply") for r in by_step.rows)
    assert by_step.total is not None and by_step.total.contacted == 1


def test_no_answer_to_a_suppressed_address(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    from engine.people import suppression

    first = _world(db, clock, settings, sink)
    got = ingest(db, clock, _reply_to(first, "Who are you?"), source="test")
    with db.session() as s:
        inbox.reply(s, settings, got.inbound_id, text="Hi", key="k", by="anna", at=clock.now())
        suppression.add(s, ERIK, reason="manual", at=clock.now())
    send_due(db, clock, settings)
    assert len(sink.messages) == 1  # only the sequence's first email
    with db.session() as s:
        answer = s.scalars(
            select(OutboundMessage).where(OutboundMessage.step_id.startswith("inbox-reply:"))
        ).one()
        assert answer.state == MessageState.CANCELLED


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "   "}, InvalidInput),
        ({"text": "Hi", "key": "bad key!"}, InvalidInput),
        ({"text": "Hi", "owner": "ben"}, NotFound),  # another SDR's reply: not in your inbox
    ],
)
def test_bad_answers_are_refused_and_change_nothing(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    sink: SmtpSink,
    kwargs: dict[str, Any],
    error: type[Exception],
) -> None:
    first = _world(db, clock, settings, sink)
    got = ingest(db, clock, _reply_to(first, "Call me"), source="test")
    args: dict[str, Any] = {"key": "k", "by": "x", "at": clock.now(), **kwargs}
    with db.session() as s, pytest.raises(error):
        inbox.reply(s, settings, got.inbound_id, **args)
    with db.session() as s:
        assert s.scalars(select(OutboundMessage)).all() == [s.get(OutboundMessage, first.id)]


def test_done_and_notes(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    first = _world(db, clock, settings, sink)
    got = ingest(db, clock, _reply_to(first, "Not now, maybe in Q3."), source="test")
    with db.session() as s:
        inbox.mark_done(s, got.inbound_id, by="anna", at=clock.now())
        inbox.mark_done(s, got.inbound_id, by="anna", at=clock.now())  # twice is fine
        note = inbox.add_note(s, ERIK.upper(), "Q3: ask again in July", by="anna", at=clock.now())
        assert inbox.items(s) == []
        assert [n.text for n in inbox.notes(s, note.prospect_id)] == ["Q3: ask again in July"]
        handled = s.scalars(select(Event).where(Event.type == EventType.INBOX_HANDLED)).all()
        assert len(handled) == 1
        inbox.reopen(s, got.inbound_id, at=clock.now())
        assert [i.id for i in inbox.items(s)] == [got.inbound_id]

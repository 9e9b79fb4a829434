"""A person corrects the classifier: the wrong actions are undone, the right ones applied."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.errors import InvalidInput, NotFound
from engine.inbound.ingest import ingest
from engine.inbound.reclassify import reclassify
from engine.people import suppression
from engine.store.db import Database
from engine.store.models import Enrollment, Event, InboundMessage, OutboundMessage, Prospect, Task
from tests.support.inbound_world import (
    dsn,
    enroll_and_send,
    make_world,
    out_of_office,
    reply,
    standin_classify,
)


def _state(db: Database, enrollment_id: int) -> Enrollment:
    with db.session() as s:
        row = s.get(Enrollment, enrollment_id)
        assert row is not None
        return row


def test_reply_that_was_an_out_of_office(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    before_next_run = _state(db, erik.enrollment_id).next_run_at
    raw = reply(erik, "Interested, let's talk.", at=clock.now())
    first = ingest(db, clock, raw, source="file", classifier=standin_classify)
    assert _state(db, erik.enrollment_id).state == "stopped"
    with db.session() as s:
        first_evidence = list(s.get(InboundMessage, first.inbound_id).evidence)  # type: ignore[union-attr]

    result = reclassify(db, clock, first.inbound_id, "auto_reply", return_date=date(2026, 3, 6))

    assert (result.before, result.after) == ("human_reply", "auto_reply")
    assert any("back to active" in n for n in result.undone)
    enrollment = _state(db, erik.enrollment_id)
    assert enrollment.state == "paused"  # the right action: paused until Monday 09:00
    assert enrollment.paused_until is not None and enrollment.paused_until.isoformat().startswith(
        "2026-03-09T08:00"
    )
    with db.session() as s:
        row = s.get(InboundMessage, first.inbound_id)
        assert row is not None and row.overridden_by == "cli"
        assert row.data["original"]["class"] == "human_reply"
        assert row.data["original"]["evidence"] == first_evidence  # the classifier's, kept
        assert s.get(Prospect, erik.prospect_id).score == 0  # type: ignore[union-attr]
        task = s.scalars(select(Task)).one()
        assert task.state == "cancelled"
        types = [
            e.type
            for e in s.scalars(
                select(Event).where(Event.inbound_id == first.inbound_id).order_by(Event.id)
            )
        ]
    cut = types.index("inbound.reclassified")
    assert "reply.received" in types[:cut] and "reply.received" not in types[cut:]
    assert "reply.auto" in types[cut:]
    # compensating events are appended before the cut: resumed, task skipped, score back
    assert {"enrollment.resumed", "task.skipped"} <= set(types[:cut])
    assert types[:cut].count("prospect.score_changed") == 2
    assert _state(db, erik.enrollment_id).next_run_at == before_next_run  # the undo restored it


def test_a_reply_ends_the_sequence_call_reminder_and_an_undo_brings_it_back(
    db: Database, clock: VirtualClock
) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    with db.session() as s:  # the sequence's call reminder, open in the SDR's queue
        call = Task(
            kind="call",
            prospect_id=erik.prospect_id,
            enrollment_id=erik.enrollment_id,
            step_id="call-1",
            owner="sdr@us.example",
            title="Call Erik",
            state="open",
            blocking=False,
            due_at=clock.now() + timedelta(days=1),
            created_at=clock.now(),
        )
        s.add(call)
        s.flush()
        call_id = call.id

    first = ingest(
        db,
        clock,
        reply(erik, "Not now, thanks.", at=clock.now()),
        source="file",
        classifier=standin_classify,
    )
    with db.session() as s:
        assert s.get(Task, call_id).state == "cancelled"  # type: ignore[union-attr]
        assert (
            s.scalars(select(Task).where(Task.step_id == "call-1", Task.state == "open")).all()
            == []
        )

    result = reclassify(db, clock, first.inbound_id, "auto_reply")

    assert any(f"task #{call_id} open again" in n for n in result.undone)
    with db.session() as s:
        again = s.get(Task, call_id)
        assert again is not None and again.state == "open" and again.completed_at is None
    assert _state(db, erik.enrollment_id).state == "paused"  # the out-of-office action


def test_out_of_office_that_was_a_reply(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    first = ingest(
        db,
        clock,
        out_of_office(erik, date(2026, 3, 20), at=clock.now()),
        source="file",
        classifier=standin_classify,
    )
    assert _state(db, erik.enrollment_id).state == "paused"

    reclassify(db, clock, first.inbound_id, "human_reply", intent="positive", by="sam")

    enrollment = _state(db, erik.enrollment_id)
    assert enrollment.state == "stopped" and enrollment.paused_until is None
    with db.session() as s:
        assert s.scalars(select(Task)).one().title == "Book a meeting with Erik"
        row = s.get(InboundMessage, first.inbound_id)
        assert row is not None and (row.intent, row.overridden_by) == ("positive", "sam")


def test_a_wrong_hard_bounce_is_taken_back(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    first = ingest(db, clock, dsn(erik, at=clock.now()), source="file", classifier=standin_classify)
    with db.session() as s:
        assert suppression.find(s, erik.email) is not None

    clock.advance(timedelta(hours=1))
    result = reclassify(db, clock, first.inbound_id, "delivered")

    assert result.after == "delivered"
    with db.session() as s:
        assert suppression.find(s, erik.email) is None
        assert s.get(OutboundMessage, erik.outbound_id).state == "sent"  # type: ignore[union-attr]
        assert s.scalars(select(Event).where(Event.type == "suppression.removed")).one()
    enrollment = _state(db, erik.enrollment_id)
    assert enrollment.state == "active"
    assert enrollment.next_run_at is not None and enrollment.next_run_at >= clock.now()


def test_an_old_suppression_is_not_removed_by_undo(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    with db.session() as s:
        suppression.add(s, erik.email, reason="manual", at=clock.now(), source="cli")
    first = ingest(db, clock, dsn(erik, at=clock.now()), source="file", classifier=standin_classify)
    reclassify(db, clock, first.inbound_id, "soft_bounce")
    with db.session() as s:
        found = suppression.find(s, erik.email)
        assert found is not None and found.reason == "manual"


def test_reclassify_refuses_nonsense(db: Database, clock: VirtualClock) -> None:
    with pytest.raises(NotFound, match="inbound list"):
        reclassify(db, clock, 999, "human_reply")
    first = ingest(db, clock, b"garbage", source="file", classifier=standin_classify)
    with pytest.raises(InvalidInput, match="is not one of"):
        reclassify(db, clock, first.inbound_id, "spam")
    with pytest.raises(InvalidInput, match="only applies to human_reply"):
        reclassify(db, clock, first.inbound_id, "auto_reply", intent="positive")
    with pytest.raises(InvalidInput, match="already unclassified"):
        reclassify(db, clock, first.inbound_id, "unclassified")


def test_move_to_another_sequence_and_back(db: Database, clock: VirtualClock) -> None:
    from tests.support.inbound_world import add_sequence

    rules = [{"when": {"reply": "positive"}, "then": {"move_to": "hot-leads"}}]
    world = make_world(db, clock.now(), spec={"rules": rules})
    with db.session() as s:
        hot_id, _ = add_sequence(s, clock.now(), key="hot-leads")
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")

    first = ingest(
        db,
        clock,
        reply(erik, "Interested!", at=clock.now()),
        source="file",
        classifier=standin_classify,
    )

    assert any("enrolled in hot-leads" in a for a in first.actions), first.error
    with db.session() as s:
        moved = s.scalars(select(Enrollment).where(Enrollment.sequence_id == hot_id)).one()
        assert (moved.state, moved.step_id, moved.owner) == ("active", "intro", "sdr-anna")
    assert _state(db, erik.enrollment_id).state == "stopped"

    reclassify(db, clock, first.inbound_id, "auto_reply")
    assert _state(db, moved.id).state == "stopped"
    assert _state(db, erik.enrollment_id).state == "paused"


def test_a_failing_action_is_rolled_back_alone(db: Database, clock: VirtualClock) -> None:
    from engine.store.models import SequenceVersion
    from tests.support.inbound_world import add_sequence

    rules = [{"when": {"reply": "positive"}, "then": {"move_to": "broken"}}]
    world = make_world(db, clock.now(), spec={"rules": rules})
    with db.session() as s:
        _, version_id = add_sequence(s, clock.now(), key="broken")
        version = s.get(SequenceVersion, version_id)
        assert version is not None
        version.spec = {"key": "broken"}  # a stored spec the enrollment service refuses
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")

    result = ingest(
        db,
        clock,
        reply(erik, "Interested!", at=clock.now()),
        source="file",
        classifier=standin_classify,
    )

    assert result.error and "move_to" in result.error
    assert _state(db, erik.enrollment_id).state == "stopped"  # the reply's stop still holds
    with db.session() as s:
        assert s.scalars(select(Task)).one().title == "Book a meeting with Erik"

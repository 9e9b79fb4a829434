"""`dispatch.due_mailboxes`: which mailboxes beat hands a send task, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from engine.clock import VirtualClock
from engine.core.states import EnrollmentState
from engine.outbound.dispatch import due_mailboxes
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox, OutboundMessage, SequenceVersion
from tests.integration.sending.factory import (
    advance_to_due,
    build_world,
    enroll,
    make_mailbox,
    make_prospect,
)


def test_a_mailbox_is_due_only_with_a_message_it_may_send_now(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    with db.session() as s:
        now = clock.now()
        world = build_world(s, now, ["a1@beta.example", "a2@beta.example"])
        version = s.get(SequenceVersion, world.version_id)
        assert version is not None
        names = ("ben", "cleo", "dora", "emil")
        boxes = {name: make_mailbox(s, now, name=name) for name in names}
        for name in ("ben", "cleo", "dora"):  # emil has nothing planned at all
            enroll(s, now, make_prospect(s, now, f"{name}@gamma.example"), version, boxes[name])
        s.commit()
        ids = {name: box.id for name, box in boxes.items()}
    assert due_mailboxes(db, clock) == []  # nothing planned yet
    tick(db, clock, settings)
    advance_to_due(db, clock)
    with db.session() as s:
        s.execute(update(Mailbox).where(Mailbox.id == ids["ben"]).values(paused=True))
        cleo_enrollments = [e.id for e in s.query(Enrollment).filter_by(mailbox_id=ids["cleo"])]
        s.execute(
            update(Enrollment)  # a paused enrollment keeps its message planned and untouched
            .where(Enrollment.id.in_(cleo_enrollments))
            .values(state=EnrollmentState.PAUSED)
        )
        s.execute(  # dora's message is planned for tomorrow
            update(OutboundMessage)
            .where(OutboundMessage.mailbox_id == ids["dora"])
            .values(not_before=clock.now() + timedelta(days=1))
        )
        s.commit()
    assert due_mailboxes(db, clock) == [world.mailbox_id]
    clock.advance(timedelta(days=1, minutes=1))
    assert due_mailboxes(db, clock) == sorted([world.mailbox_id, ids["dora"]])

"""The whole path with the real classifier (engine.inbound.classifier), not the stand-in."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.clock import VirtualClock
from engine.inbound.ingest import default_classifier, headers_only, ingest
from engine.people import suppression
from engine.people.resume import resume_due
from engine.store.db import Database
from engine.store.models import Enrollment
from tests.support.inbound_world import (
    dsn,
    enroll_and_send,
    german_reply,
    make_world,
    out_of_office,
)


@pytest.fixture(autouse=True)
def _real_classifier() -> None:
    assert default_classifier() is not headers_only  # the real classifier, not the fallback


def _state(db: Database, enrollment_id: int) -> Enrollment:
    with db.session() as s:
        row = s.get(Enrollment, enrollment_id)
        assert row is not None
        return row


def test_reply_ooo_and_bounce_with_the_real_classifier(db: Database, clock: VirtualClock) -> None:
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    jana = enroll_and_send(db, world, clock.now(), "jana@beta.example", first_name="Jana")
    kai = enroll_and_send(db, world, clock.now(), "kai@gamma.example", first_name="Kai")

    replied = ingest(db, clock, german_reply(erik, at=clock.now()), source="file")
    assert (replied.kind, replied.matched_by) == ("human_reply", "thread")
    assert _state(db, erik.enrollment_id).state == "stopped"

    away = ingest(db, clock, out_of_office(jana, date(2026, 3, 13), at=clock.now()), source="file")
    assert away.kind == "auto_reply"
    assert _state(db, jana.enrollment_id).paused_until == datetime(2026, 3, 16, 8, tzinfo=UTC)
    clock.set(datetime(2026, 3, 16, 8, tzinfo=UTC))
    assert resume_due(db, clock) == 1
    assert _state(db, jana.enrollment_id).state == "active"

    delivered = ingest(db, clock, dsn(kai, status="2.0.0", at=clock.now()), source="file")
    assert delivered.kind == "delivered"  # a success report is never a bounce
    assert _state(db, kai.enrollment_id).state == "active"

    bounced = ingest(db, clock, dsn(kai, at=clock.now()), source="file")
    assert bounced.kind == "hard_bounce" and bounced.prospect_id == kai.prospect_id
    with db.session() as s:
        assert suppression.find(s, kai.email) is not None
    assert _state(db, kai.enrollment_id).state == "stopped"

"""The SQL fold gives the same facts and counts however the event log is cut into batches."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.reporting import rollups
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    Event,
    InboundMessage,
    OutboundMessage,
    ReportCursor,
    ReportFact,
    ReportGap,
    ReportRollup,
)
from tests.support.seed import Seeder, day, seed_scenario


def _state(db: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every fact (without its id) and every non-zero count, in a stable order."""
    with db.session() as s:
        facts = sorted(
            (
                f.enrollment_id,
                f.metric,
                f.step_key,
                f.at,
                f.day,
                f.sequence_id,
                f.version_id,
                f.step_id,
                f.variant,
                f.mailbox_id,
                f.owner,
                f.value,
                f.inbound_id,
            )
            for f in s.scalars(select(ReportFact))
        )
        keys = ("day", "sequence_id", "version_id", "step_id", "variant", "mailbox_id", "owner")
        counts = sorted(
            (*(getattr(r, k) for k in keys), r.metric, r.count)
            for r in s.scalars(select(ReportRollup).where(ReportRollup.count != 0))
        )
    return facts, counts


def _rebuild(db: Database, batch_size: int) -> tuple[list[tuple[Any, ...]], ...]:
    with db.session() as s:
        for model in (ReportFact, ReportRollup, ReportCursor, ReportGap):
            s.execute(delete(model))
    rollups.refresh_rollups(db, batch_size=batch_size)
    return _state(db)


def _more_activity(db: Database, sc: Any) -> None:
    """Later events that change earlier facts: a second reply, a reclassified first one."""
    with db.session() as s:
        sd = Seeder(s)
        first = s.scalars(
            select(InboundMessage).where(InboundMessage.enrollment_id == sc.enrollments["q0"])
        ).one()
        m = s.get(OutboundMessage, sc.outbound["q0.intro"])
        assert m is not None
        sd.reply(m, day(9, 9), intent="positive", text="Actually, tell me more")
        sd.reclassify(first, day(9, 10), to="auto_reply")
        bump = s.get(OutboundMessage, sc.outbound["p6.bump"])
        assert bump is not None
        sd.bounce(bump, day(9, 11), kind="soft")  # not a bounce of the address
        sd.unsubscribe(bump, day(9, 12))


def test_batch_size_does_not_change_the_result(db: Database) -> None:
    seed_scenario(db)
    rollups.refresh_rollups(db)
    whole = _state(db)
    with db.session() as s:
        events = s.scalar(select(func.count()).select_from(Event))
    assert whole[0] and whole[1]
    for size in (1, 3, 10):
        assert _rebuild(db, size) == whole, f"batches of {size} of {events} events"


def test_incremental_equals_rebuild(db: Database) -> None:
    sc = seed_scenario(db)
    rollups.refresh_rollups(db, batch_size=4)
    _more_activity(db, sc)
    rollups.refresh_rollups(db, batch_size=4)
    incremental = _state(db)
    assert _rebuild(db, rollups.BATCH) == incremental
    with db.session() as s:
        opted_out = s.scalars(
            select(ReportFact).where(
                ReportFact.enrollment_id == sc.enrollments["p6"], ReportFact.metric == "opted_out"
            )
        ).one()
        bounced = s.scalars(
            select(ReportFact).where(
                ReportFact.enrollment_id == sc.enrollments["p6"], ReportFact.metric == "bounced"
            )
        ).all()
    assert (opted_out.step_id, opted_out.at) == ("bump", day(9, 12))  # the last email sent
    assert bounced == []  # a soft bounce is no bounce of the address


def test_folding_events_again_changes_nothing(db: Database) -> None:
    seed_scenario(db)
    rollups.refresh_rollups(db)
    before = _state(db)
    with db.session() as s:
        upto = s.scalar(select(func.max(Event.id)))
        assert upto is not None
        rollups.fold(s, rollups.Span(Event.id <= upto, upto))
    assert _state(db) == before


def _opted_out(db: Database, enrollment_id: int) -> list[ReportFact]:
    with db.session() as s:
        return list(
            s.scalars(
                select(ReportFact).where(
                    ReportFact.enrollment_id == enrollment_id, ReportFact.metric == "opted_out"
                )
            )
        )


@pytest.mark.postgres
def test_event_committed_after_a_later_one_is_folded(postgres_db: Database) -> None:
    """PostgreSQL hands out ids before commit: id N can commit after N+1 was rolled up."""
    db = postgres_db
    sc = seed_scenario(db)
    rollups.refresh_rollups(db)
    with db.engine.connect() as slow_conn, Session(bind=slow_conn) as slow:
        enrollment = slow.get(Enrollment, sc.enrollments["p6"])
        assert enrollment is not None
        late = events.record(slow, EventType.UNSUBSCRIBED, day(9, 12), enrollment=enrollment)
        slow.flush()  # the id is taken, the transaction still open
        late_id = late.id
        with db.session() as s:
            other = s.get(Enrollment, sc.enrollments["p7"])
            assert other is not None
            events.record(s, EventType.MEETING_BOOKED, day(9, 13), enrollment=other)
        assert rollups.refresh_rollups(db) == 1  # the meeting only: the opt-out is in flight
        assert _opted_out(db, sc.enrollments["p6"]) == []
        slow.commit()
    assert rollups.refresh_rollups(db) == 0  # no new ids, but the gap has filled
    [fact] = _opted_out(db, sc.enrollments["p6"])
    assert (fact.at, fact.step_id) == (day(9, 12), "bump")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReportGap)) == 0
        assert late_id < rollups.last_event_id(s)
    folded = _state(db)
    assert _rebuild(db, rollups.BATCH) == folded

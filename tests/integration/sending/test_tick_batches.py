"""The tick runs a batch of steps in one transaction; one failing step never costs the others.

The batch is first tried without a savepoint per step; if anything raises, it is rolled back
and run again step by step, so only the failing enrollment is paused (with its error) and the
unique (enrollment_id, step_id) constraint still decides whether a message already exists.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState
from engine.outbound import tick as tick_module
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Event, Mailbox, OutboundMessage
from tests.integration.sending.factory import (
    BASIC_SPEC,
    build_world,
    enroll,
    make_prospect,
    make_version,
)


def _by_id(db: Database) -> dict[int, Enrollment]:
    with db.session() as s:
        return {e.id: e for e in s.scalars(select(Enrollment))}


def test_a_step_that_raises_pauses_only_its_enrollment(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    broken_spec: dict[str, Any] = {**BASIC_SPEC, "key": "broken", "name": "Broken"}
    with db.session() as s:
        world = build_world(s, clock.now(), [f"p{i}@beta.example" for i in range(4)])
        broken = make_version(
            s, clock.now(), broken_spec, {"intro.md.j2": "{{ 1 // 0 }}", "bump.md.j2": "x"}
        )
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        bad = enroll(
            s, clock.now(), make_prospect(s, clock.now(), "x@gamma.example"), broken, mailbox
        )
        bad_id = bad.id

    report = tick(db, clock, settings, batch_size=10)

    assert report.emails_planned == 4
    assert report.paused == 1
    assert any(f"enrollment {bad_id}" in e and "ZeroDivisionError" in e for e in report.errors)
    rows = _by_id(db)
    assert rows[bad_id].state == EnrollmentState.PAUSED
    assert rows[bad_id].state_reason == "internal error in step intro: ZeroDivisionError"
    for good in world.enrollment_ids:
        assert rows[good].step_id == "wait-1"  # advanced past the email
    with db.session() as s:
        planned = s.scalars(select(OutboundMessage.enrollment_id)).all()
        assert sorted(planned) == sorted(world.enrollment_ids)
        # each good step recorded once: the rolled-back first attempt left nothing behind
        executed = s.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.type == str(EventType.STEP_EXECUTED))
        )
        assert executed == 4
    # paused, so not due: the next tick does not try it again
    again = tick(db, clock, settings, batch_size=10)
    assert again.executed == 0 and again.paused == 0


def test_a_step_whose_message_exists_never_plans_a_second_one(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    with db.session() as s:
        world = build_world(s, clock.now(), [f"p{i}@beta.example" for i in range(3)])
    assert tick(db, clock, settings).emails_planned == 3
    first = world.enrollment_ids[0]
    with db.session() as s:  # as if a crash had lost the moved pointer of one enrollment
        row = s.get(Enrollment, first)
        assert row is not None
        row.step_index, row.step_id, row.next_run_at = 0, "intro", clock.now()
        for other in world.enrollment_ids[1:]:  # and two more enrollments are due
            s.add(
                Enrollment(
                    prospect_id=make_prospect(s, clock.now(), f"n{other}@delta.example").id,
                    sequence_id=row.sequence_id,
                    version_id=row.version_id,
                    mailbox_id=row.mailbox_id,
                    state=EnrollmentState.ACTIVE,
                    step_index=0,
                    step_id="intro",
                    next_run_at=clock.now(),
                    step_started_at=clock.now(),
                    variants={},
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )

    report = tick(db, clock, settings, batch_size=10)

    assert report.executed == 3
    assert report.emails_planned == 2  # the two new ones; the existing message is kept
    with db.session() as s:
        counts = dict(
            s.execute(
                select(OutboundMessage.enrollment_id, func.count())
                .where(OutboundMessage.state == MessageState.PLANNED)
                .group_by(OutboundMessage.enrollment_id)
            ).all()
        )
        assert counts[first] == 1
        assert len(counts) == 5
        assert s.get(Enrollment, first).step_id == "wait-1"  # type: ignore[union-attr]


def test_a_batched_ab_step_records_each_enrollments_variant(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    intro = {
        "id": "intro",
        "type": "email",
        "template": "intro.md.j2",
        "variants": {"a": {"subject": "A for {{ first_name }}"}, "b": {"subject": "B too"}},
    }
    ab_spec: dict[str, Any] = {
        **BASIC_SPEC,
        "key": "ab",
        "name": "AB",
        "steps": [intro, *BASIC_SPEC["steps"][1:]],
    }
    with db.session() as s:
        world = build_world(s, clock.now(), [])
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        version = make_version(s, clock.now(), ab_spec)
        for i in range(4):
            enroll(
                s,
                clock.now(),
                make_prospect(s, clock.now(), f"v{i}@beta.example"),
                version,
                mailbox,
            )

    assert tick(db, clock, settings, batch_size=10).emails_planned == 4

    with db.session() as s:
        seen = set()
        for m in s.scalars(select(OutboundMessage)):
            enrollment = s.get(Enrollment, m.enrollment_id)
            assert enrollment is not None and m.variant in ("a", "b")
            assert enrollment.variants == {"intro": m.variant}
            assert (enrollment.step_index, enrollment.step_id) == (1, "wait-1")
            assert enrollment.next_run_at is None and enrollment.updated_at == clock.now()
            assert m.subject == ("B too" if m.variant == "b" else "A for V" + m.to_address[1])
            seen.add(m.variant)
        assert seen == {"a", "b"}


def test_a_database_failure_in_a_step_fails_the_tick_and_pauses_no_one(
    db: Database, clock: VirtualClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session() as s:
        world = build_world(s, clock.now(), [f"p{i}@beta.example" for i in range(3)])
    real_step = tick_module.execute_step
    cut = world.enrollment_ids[1]

    def step_with_a_cut_connection(session: Any, enrollment: Enrollment, *args: Any) -> None:
        if enrollment.id == cut:  # as psycopg raises when the server drops the connection
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        real_step(session, enrollment, *args)

    monkeypatch.setattr(tick_module, "execute_step", step_with_a_cut_connection)
    with pytest.raises(OperationalError):
        tick(db, clock, settings, batch_size=10)
    rows = _by_id(db)
    assert {rows[i].state for i in world.enrollment_ids} == {EnrollmentState.ACTIVE}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboundMessage)) == 0  # rolled back

    monkeypatch.setattr(tick_module, "execute_step", real_step)
    assert tick(db, clock, settings, batch_size=10).emails_planned == 3  # the next tick redoes it

"""Enrolling, refusals, mailbox assignment, pause/resume/stop and suppression stops."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.errors import Conflict
from engine.outbound.tick import tick
from engine.people import enrollment, suppression
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    Event,
    OutboundMessage,
    Prospect,
    SequenceVersion,
    Task,
)
from tests.integration.prospects.conftest import add_mailbox, add_sequence


def no_missing(version: SequenceVersion, prospect: Prospect) -> list[str]:
    return []


def needs_first_name(version: SequenceVersion, prospect: Prospect) -> list[str]:
    return [] if prospect.first_name else ["first_name"]


def add_prospects(db: Database, clock: VirtualClock, *emails: str) -> None:
    with db.session() as s:
        for email in emails:
            first = None if email.startswith("nameless") else email.split("@")[0].title()
            s.add(
                Prospect(
                    email=email,
                    email_key=email.lower(),
                    first_name=first,
                    custom={},
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )


def enroll(
    db: Database, clock: VirtualClock, *emails: str, **kw: object
) -> enrollment.EnrollResult:
    kw.setdefault("check_variables", no_missing)
    with db.session() as s:
        return enrollment.enroll(s, "saas-founders", list(emails), at=clock.now(), **kw)  # type: ignore[arg-type]


def events_of(db: Database, type: EventType) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).where(Event.type == str(type)).order_by(Event.id)))


def test_enroll_creates_active_enrollments_on_the_first_step(
    db: Database, clock: VirtualClock
) -> None:
    version_id = add_sequence(
        db, at=clock.now(), steps=[{"id": "intro", "email": {"subject": "Hi", "body": "Hello"}}]
    )
    add_mailbox(db, "anna", at=clock.now())
    add_prospects(db, clock, "erik@acme.example")

    result = enroll(db, clock, "ERIK@acme.example", owner="anna")

    assert result.enrolled == [("erik@acme.example", "anna")] and result.refused == []
    with db.session() as s:
        row = s.scalars(select(Enrollment)).one()
        assert (row.state, row.step_index, row.step_id, row.version_id) == (  # step 0
            "active",
            0,
            "intro",
            version_id,
        )
        assert row.next_run_at == clock.now() == row.step_started_at
        assert row.owner == "anna"
    [event] = events_of(db, EventType.ENROLLED)
    assert (event.enrollment_id, event.data["mailbox"]) == (row.id, "anna")
    assert event.data["why"] == "the least busy mailbox of the pool"


def test_refusals_have_reasons_and_the_rest_are_enrolled(db: Database, clock: VirtualClock) -> None:
    add_sequence(db, at=clock.now())
    add_mailbox(db, "anna", at=clock.now())
    add_prospects(
        db, clock, "ok@acme.example", "blocked@acme.example", "x@spam.example", "nameless@a.example"
    )
    with db.session() as s:
        suppression.add(s, "blocked@acme.example", reason="unsubscribe", at=clock.now())
        suppression.add(s, "@spam.example", reason="competitor", at=clock.now())
    enroll(db, clock, "ok@acme.example")

    result = enroll(
        db,
        clock,
        "ok@acme.example",
        "blocked@acme.example",
        "x@spam.example",
        "nameless@a.example",
        "ghost@acme.example",
        check_variables=needs_first_name,
    )

    # missing data is no refusal: enrolled, with a warning (DESIGN invariant 5)
    assert result.enrolled == [("nameless@a.example", "anna")]
    [warning] = result.warnings
    assert warning.email == "nameless@a.example"
    assert warning.reason.startswith("missing template variable(s) without default: first_name")
    reasons = {r.email: r.reason for r in result.refused}
    assert reasons["ok@acme.example"].startswith("already active in saas-founders")
    assert reasons["blocked@acme.example"].startswith(
        "suppressed (blocked@acme.example, reason unsubscribe"
    )
    assert reasons["x@spam.example"].startswith("suppressed (@spam.example, reason competitor")
    assert reasons["ghost@acme.example"] == "unknown prospect"
    assert "kadenz prospects import" in next(r.fix for r in result.refused if "ghost" in r.email)
    assert len(events_of(db, EventType.ENROLL_REFUSED)) == 4


def test_mailboxes_are_balanced_sticky_and_from_the_pool(db: Database, clock: VirtualClock) -> None:
    add_sequence(db, at=clock.now(), mailboxes=["anna", "ben"])
    add_sequence(db, "other", at=clock.now(), mailboxes=["anna", "ben"])
    add_mailbox(db, "anna", at=clock.now())
    add_mailbox(db, "ben", at=clock.now())
    add_mailbox(db, "carl", at=clock.now())  # not in the pool
    add_mailbox(db, "dora", at=clock.now(), paused=True)
    emails = [f"p{i}@acme.example" for i in range(4)]
    add_prospects(db, clock, *emails)

    result = enroll(db, clock, *emails)
    assert [box for _, box in result.enrolled] == ["anna", "ben", "anna", "ben"]

    # p1 had ben; in another sequence it keeps ben even though both have equal load.
    with db.session() as s:
        again = enrollment.enroll(
            s, "other", ["p1@acme.example"], at=clock.now(), check_variables=no_missing
        )
    assert again.enrolled == [("p1@acme.example", "ben")]


def test_no_mailbox_is_a_clear_error(db: Database, clock: VirtualClock) -> None:
    add_sequence(db, at=clock.now())
    add_prospects(db, clock, "erik@acme.example")
    with pytest.raises(Conflict, match="kadenz mailbox add"):
        enroll(db, clock, "erik@acme.example")


def test_pause_resume_stop_cancels_planned_messages_and_open_tasks(
    db: Database, clock: VirtualClock
) -> None:
    add_sequence(db, at=clock.now())
    add_mailbox(db, "anna", at=clock.now())
    add_prospects(db, clock, "erik@acme.example")
    enroll(db, clock, "erik@acme.example")
    key = "saas-founders"
    with db.session() as s:
        enrollment.pause(s, "erik@acme.example", key, at=clock.now(), reason="OOO")
    clock.advance(timedelta(days=2))
    with db.session() as s:
        row = enrollment.resume(s, "erik@acme.example", key, at=clock.now())
        assert (row.state, row.next_run_at) == ("active", clock.now())
        add_planned_message_and_task(s, row, clock)
    with db.session() as s:
        enrollment.stop(s, "erik@acme.example", key, at=clock.now(), reason="booked a meeting")
    with db.session() as s:
        row = s.scalars(select(Enrollment)).one()
        assert (row.state, row.state_reason) == ("stopped", "booked a meeting")
        assert s.scalars(select(OutboundMessage.state)).all() == ["cancelled"]
        assert s.scalars(select(Task.state)).all() == ["cancelled"]
        with pytest.raises(Conflict, match="already stopped"):
            enrollment.stop(s, "erik@acme.example", key, at=clock.now())
    assert [e.data for e in events_of(db, EventType.PAUSED)] == [{"reason": "OOO", "until": None}]
    assert len(events_of(db, EventType.RESUMED)) == 1
    assert [e.data for e in events_of(db, EventType.STOPPED)] == [{"reason": "booked a meeting"}]
    assert len(events_of(db, EventType.MESSAGE_CANCELLED)) == 1


def add_planned_message_and_task(s: object, row: Enrollment, clock: VirtualClock) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    s.add(
        OutboundMessage(
            enrollment_id=row.id,
            step_id="intro",
            prospect_id=row.prospect_id,
            mailbox_id=row.mailbox_id,
            sequence_id=row.sequence_id,
            version_id=row.version_id,
            state="planned",
            to_address="erik@acme.example",
            from_address="anna@acme.example",
            subject="Hi Erik",
            body_text="Hi Erik, …",
            message_id=f"m{row.id}@acme.example",
            not_before=clock.now(),
            created_at=clock.now(),
            updated_at=clock.now(),
        )
    )
    s.add(
        Task(
            kind="call",
            prospect_id=row.prospect_id,
            enrollment_id=row.id,
            step_id="call-1",
            title="Call Erik",
            state="open",
            due_at=clock.now(),
            created_at=clock.now(),
        )
    )


def test_suppressing_a_domain_stops_its_live_enrollments_in_the_same_transaction(
    db: Database, clock: VirtualClock
) -> None:
    add_sequence(db, at=clock.now())
    add_mailbox(db, "anna", at=clock.now())
    add_prospects(db, clock, "a@acme.example", "b@acme.example", "c@beta.example")
    enroll(db, clock, "a@acme.example", "b@acme.example", "c@beta.example")
    with db.session() as s:
        add_planned_message_and_task(s, s.scalars(select(Enrollment)).first(), clock)  # type: ignore[arg-type]
    with db.session() as s:
        row, stopped = suppression.suppress(s, "@ACME.example", reason="customer", at=clock.now())
    assert (row.kind, row.value, stopped) == ("domain", "acme.example", 2)
    with db.session() as s:
        states = dict(
            (r.prospect_id, (r.state, r.state_reason)) for r in s.scalars(select(Enrollment))
        )
        assert sorted(states.values()) == [
            ("active", None),
            ("stopped", "suppressed: customer"),
            ("stopped", "suppressed: customer"),
        ]
        assert s.scalars(select(OutboundMessage.state)).all() == ["cancelled"]
        assert [x.value for x in suppression.list_all(s)] == ["acme.example"]
    with db.session() as s:
        suppression.remove(s, "@acme.example", at=clock.now())
    with db.session() as s:
        assert suppression.list_all(s) == []
    assert len(events_of(db, EventType.UNSUPPRESSED)) == 1


def test_missing_variables_enroll_with_a_warning_and_the_tick_pauses_with_a_task(
    db: Database, clock: VirtualClock, tmp_path: Path
) -> None:
    # intro.md.j2 reads first_name (no default) and pain (default); the call reads company.
    add_sequence(db, at=clock.now())
    add_mailbox(db, "anna", at=clock.now())
    add_prospects(db, clock, "nameless@acme.example", "erik@acme.example")
    with db.session() as s:
        s.execute(
            update(Prospect).where(Prospect.email_key == "erik@acme.example").values(company="Acme")
        )

    result = enroll(
        db,
        clock,
        "nameless@acme.example",
        "erik@acme.example",
        check_variables=enrollment.renderer_variable_check,
    )

    assert result.enrolled == [("nameless@acme.example", "anna"), ("erik@acme.example", "anna")]
    assert result.refused == []
    [warning] = result.warnings
    assert warning.email == "nameless@acme.example"
    assert warning.reason.startswith(
        "missing template variable(s) without default: company, first_name; the enrollment "
        "will pause"
    )
    # ... and the tick does what the warning (and `sequence preview`) said
    tick(db, clock, Settings(home=tmp_path, secret_key="test-secret"))
    with db.session() as s:
        paused = s.scalars(
            select(Enrollment)
            .join(Prospect, Prospect.id == Enrollment.prospect_id)
            .where(Prospect.email_key == "nameless@acme.example")
        ).one()
        assert paused.state == "paused" and "missing variable: first_name" in (
            paused.state_reason or ""
        )
        [task] = s.scalars(select(Task).where(Task.enrollment_id == paused.id)).all()
        assert task.title.startswith("Fill in first_name") and task.state == "open"
        assert s.scalars(select(OutboundMessage.to_address)).all() == ["erik@acme.example"]

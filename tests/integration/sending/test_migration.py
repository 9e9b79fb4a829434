"""Migrating live enrollments between versions: 100 prospects at different steps, v2 renames,
removes and adds a step; every enrollment's step, next run and messages, and no second email
for one step across the migration (real SMTP sink, both databases)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.core.states import LIVE_ENROLLMENT_STATES, MessageState
from engine.errors import KadenzError
from engine.outbound import migration
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.people import enrollment as enrolling
from engine.sequence_language.loader import load_sequence
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Event, OutboundMessage, SequenceVersion
from engine.workspace import sequences
from tests.integration.sending.factory import make_mailbox, make_prospect, received
from tests.support.smtp_server import SmtpSink

V1 = """\
key: launch
name: Launch
mailboxes: [anna]
schedule: {timezone: Europe/Berlin, window: "Mon-Sun 09:00-12:00"}
steps:
  - id: intro
    email: {subject: "Hi {{ first_name }}", body: "Hello {{ first_name }}, a question."}
  - wait: 44 hours
  - id: bump
    email: {thread: previous, body: "Bumping this, {{ first_name }}."}
  - wait: 20 hours
  - id: nudge
    email: {thread: previous, body: "A nudge, {{ first_name }}."}
  - wait: 2 days
  - id: breakup
    email: {subject: "Closing the loop", body: "Last note, {{ first_name }}."}
"""
# bump renamed to follow-up (and reworded), nudge and its wait removed, case-study added
V2 = """\
key: launch
name: Launch
mailboxes: [anna]
schedule: {timezone: Europe/Berlin, window: "Mon-Sun 09:00-12:00"}
steps:
  - id: intro
    email: {subject: "Hi {{ first_name }}", body: "Hello {{ first_name }}, a question."}
  - wait: 2 days
  - id: follow-up
    renamed_from: bump
    email: {thread: previous, body: "Following up, {{ first_name }}."}
  - wait: 2 days
  - id: breakup
    email: {subject: "Closing the loop", body: "Last note, {{ first_name }}."}
  - wait: 2 days
  - id: case-study
    email: {subject: "How Beta did it", body: "A case study for {{ first_name }}."}
"""
# Where a prospect whose next step is the key goes (docs/sequences.md: by id, a renamed step
# by `renamed_from`, a removed one to the next kept step; id-less waits by the step after).
EXPECTED_STEP: dict[str | None, str | None] = {
    "intro": "intro",
    "wait-1": "wait-1",
    "bump": "follow-up",
    "wait-2": "wait-2",  # v1's wait before nudge is gone: on to the wait before breakup
    "nudge": "wait-2",
    "wait-3": "wait-2",  # the wait before breakup is v2's wait-2
    "breakup": "breakup",
    None: None,  # past breakup: the added case-study comes after, they are done
}
LIVE = [str(s) for s in LIVE_ENROLLMENT_STATES]


def _push(db: Database, tmp_path: Path, text: str, at: datetime) -> int:
    path = tmp_path / "launch.yaml"
    path.write_text(text)
    with db.session() as s:
        version, _ = sequences.push(s, load_sequence(path, tmp_path), at)
        return version.version


def _drive(db: Database, clock: VirtualClock, settings: Settings, until: datetime) -> None:
    """Tick and send as `kadenz run` would, jumping to the next moment something is due."""
    while clock.now() < until:
        tick(db, clock, settings)
        send_due(db, clock, settings)
        now = clock.now()
        with db.session() as s:
            due = [
                s.scalar(
                    select(func.min(OutboundMessage.not_before)).where(
                        OutboundMessage.state == MessageState.PLANNED,
                        OutboundMessage.not_before > now,
                    )
                ),
                s.scalar(
                    select(func.min(Enrollment.next_run_at)).where(
                        Enrollment.state == "active", Enrollment.next_run_at > now
                    )
                ),
            ]
        clock.set(min([now + timedelta(hours=6), until, *(d for d in due if d is not None)]))


def _snapshot(db: Database) -> dict[int, dict[str, Any]]:
    with db.session() as s:
        out: dict[int, dict[str, Any]] = {}
        for e in s.scalars(select(Enrollment).where(Enrollment.state.in_(LIVE))):
            messages = s.scalars(
                select(OutboundMessage).where(OutboundMessage.enrollment_id == e.id)
            ).all()
            out[e.id] = {
                "version": e.version_id,
                "step": e.step_id,
                "next_run_at": e.next_run_at,
                "planned": {
                    m.step_id: (m.id, m.body_text, m.message_id, m.not_before)
                    for m in messages
                    if m.state == MessageState.PLANNED
                },
                "sent": sorted(m.step_id for m in messages if m.state == MessageState.SENT),
            }
        return out


def test_a_hundred_live_enrollments_move_to_v2_by_step_id(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, tmp_path: Path
) -> None:
    start = clock.now()
    with db.session() as s:
        make_mailbox(s, start, smtp_url=sink.url, daily_cap=1000)
        emails = [f"p{i:03d}@beta{i % 7}.example" for i in range(100)]
        for email in emails:
            make_prospect(s, start, email)
    assert _push(db, tmp_path, V1, start) == 1
    # twenty cohorts, 10 hours apart, so the prospects are spread over every step
    for cohort in range(20):
        _drive(db, clock, settings, start + timedelta(hours=10 * cohort))
        with db.session() as s:
            batch = emails[cohort * 5 : cohort * 5 + 5]
            assert len(enrolling.enroll(s, "launch", batch, at=clock.now()).enrolled) == 5
    _drive(db, clock, settings, start + timedelta(days=6, hours=23))  # 08:00 Berlin
    tick(db, clock, settings)  # steps due now are planned, not yet sent
    before = _snapshot(db)
    steps_before = Counter(row["step"] for row in before.values())
    planned_before = Counter(k for row in before.values() for k in row["planned"])
    assert len(steps_before) >= 5, (steps_before, planned_before)  # spread over the steps
    assert planned_before["bump"] and planned_before["nudge"], planned_before

    assert _push(db, tmp_path, V2, clock.now()) == 2
    dry = migration.plan(db, "launch", None, clock.now())
    assert _snapshot(db) == before  # a dry run changes nothing
    assert sum(g.count for g in dry.groups) == len(before) and dry.skipped == []
    for group in dry.groups:
        assert group.to_step == EXPECTED_STEP[group.from_step]

    now = clock.now()
    report = migration.migrate(db, "launch", None, now)
    assert (report.migrated, report.skipped) == (len(before), [])
    assert [g.as_json() for g in report.groups] == [g.as_json() for g in dry.groups]
    after = _snapshot(db)
    with db.session() as s:
        v2 = s.scalars(select(SequenceVersion).where(SequenceVersion.version == 2)).one()
        cancelled = {
            m.enrollment_id: m
            for m in s.scalars(
                select(OutboundMessage).where(OutboundMessage.state == MessageState.CANCELLED)
            )
        }
        migrated = Counter(
            e.enrollment_id
            for e in s.scalars(select(Event).where(Event.type == EventType.MIGRATED))
        )
    assert set(migrated) == set(before) and set(migrated.values()) == {1}
    for enrollment_id, old in before.items():
        new = after[enrollment_id]
        assert new["version"] == v2.id
        assert new["step"] == EXPECTED_STEP[old["step"]], (old, new)
        assert new["sent"] == old["sent"]  # history is never rewritten
        if "nudge" in old["planned"]:  # removed step: its email is cancelled, they go on now
            assert cancelled[enrollment_id].message_id == old["planned"]["nudge"][2]
            assert "nudge" not in new["planned"] and new["next_run_at"] == now
        else:
            assert new["next_run_at"] == old["next_run_at"]
        if "bump" in old["planned"]:  # renamed and reworded: re-rendered, same id and time
            mid, body, message_id, not_before = old["planned"]["bump"]
            assert new["planned"]["follow-up"][0] == mid
            assert new["planned"]["follow-up"][2:] == (message_id, not_before)
            assert body.startswith("Bumping") and new["planned"]["follow-up"][1].startswith(
                "Following up"
            )
        for step in ("intro", "breakup"):  # unchanged steps keep their rendered email
            if step in old["planned"]:
                assert new["planned"][step] == old["planned"][step]

    again = migration.migrate(db, "launch", None, clock.now())
    assert (again.migrated, again.already, again.groups) == (0, len(before), [])
    assert _snapshot(db) == after

    _drive(db, clock, settings, clock.now() + timedelta(days=21))
    with db.session() as s:
        sent = s.scalars(
            select(OutboundMessage).where(OutboundMessage.state == MessageState.SENT)
        ).all()
        states = Counter(s.scalars(select(Enrollment.state)))
    assert states == {"finished": 100}
    per_enrollment: dict[int, list[str]] = {}
    for m in sent:
        per_enrollment.setdefault(m.enrollment_id, []).append(m.step_id)
    for enrollment_id, steps in per_enrollment.items():
        assert len(steps) == len(set(steps)), steps  # one email per step
        assert not {"bump", "follow-up"} <= set(steps), steps  # a rename is the same step
        if enrollment_id in before and before[enrollment_id]["step"] not in ("breakup", None):
            assert "nudge" not in steps[len(before[enrollment_id]["sent"]) :]
    wire = [str(m["Message-ID"]) for m in received(sink)]
    assert len(wire) == len(set(wire)) == len(sent)


def test_an_ambiguous_mapping_is_refused_with_the_reason_and_changes_nothing(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, tmp_path: Path
) -> None:
    with db.session() as s:
        make_mailbox(s, clock.now(), smtp_url=sink.url)
        make_prospect(s, clock.now(), "erik@beta.example")
    _push(db, tmp_path, V1, clock.now())
    with db.session() as s:
        enrolling.enroll(s, "launch", ["erik@beta.example"], at=clock.now())
    tick(db, clock, settings)
    swapped = V1.replace("id: bump", "id: tmp").replace("id: nudge", "id: bump")
    swapped = swapped.replace("id: tmp", "id: nudge")  # bump and nudge swap places
    _push(db, tmp_path, swapped, clock.now())
    before = _snapshot(db)
    with pytest.raises(KadenzError) as refused:
        migration.migrate(db, "launch", None, clock.now())
    message = str(refused.value)
    assert "steps 'bump' and" in message or "steps 'nudge' and" in message
    assert "changed order" in message and "give the moved step a new id" in message
    assert "nothing was changed" in message
    assert _snapshot(db) == before

"""A call whose outcome is `meeting_booked` records the meeting and, when the sequence says
`stop_on: [meeting_booked]`, stops it: nobody gets a breakup email after booking a meeting."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.core.states import EnrollmentState, TaskState
from engine.outbound.tick import tick
from engine.people.tasks import complete_task
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Event, Task
from tests.integration.sending.factory import BASIC_SPEC, build_world


def _spec(stop_on: list[str]) -> dict[str, Any]:
    spec = dict(BASIC_SPEC)
    spec["stop_on"] = stop_on
    spec["steps"] = [
        {"id": "call-1", "type": "call", "title": "Call {{ first_name }}", "blocking": True},
        {"id": "breakup", "type": "task", "title": "Send a breakup note", "blocking": False},
    ]
    return spec


@pytest.mark.parametrize(
    ("stop_on", "state"),
    [(["reply", "meeting_booked"], EnrollmentState.STOPPED), (["reply"], EnrollmentState.ACTIVE)],
)
def test_meeting_booked_stops_only_when_the_sequence_says_so(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    stop_on: list[str],
    state: EnrollmentState,
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), ["p0@beta0.example"], spec=_spec(stop_on))
    tick(db, clock, settings)
    with db.session() as s:
        task = s.scalars(select(Task)).one()
        complete_task(s, task.id, "meeting_booked", clock.now())
    with db.session() as s:
        enrollment = s.scalars(select(Enrollment)).one()
        meetings = s.scalars(select(Event).where(Event.type == str(EventType.MEETING_BOOKED)))
        assert enrollment.state == state
        assert [m.task_id for m in meetings] == [task.id]
        assert s.get(Task, task.id).state == TaskState.DONE  # type: ignore[union-attr]
    if state is EnrollmentState.STOPPED:
        assert enrollment.state_reason == f"meeting booked (task {task.id})"
        tick(db, clock, settings)
        with db.session() as s:  # the later step never runs
            assert s.scalars(select(Task)).all() == [s.get(Task, task.id)]

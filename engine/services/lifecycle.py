"""Enrollment transitions used by the tick, the sender and tasks: each one appends its event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import EnrollmentState, TaskState, advance_enrollment, advance_task
from engine.services import events
from engine.store.models import Enrollment, Task


def move(
    session: Session,
    enrollment: Enrollment,
    target: EnrollmentState,
    at: datetime,
    *,
    reason: str | None = None,
    data: dict[str, object] | None = None,
) -> None:
    """Move an enrollment to `target` (checked by the state machine) and record the event."""
    current = EnrollmentState(enrollment.state)
    enrollment.state = advance_enrollment(current, target)
    enrollment.state_reason = reason
    enrollment.updated_at = at
    payload: dict[str, object] = dict(data or {})
    if reason:
        payload["reason"] = reason
    if target in (EnrollmentState.STOPPED, EnrollmentState.FINISHED):
        enrollment.next_run_at = None
        enrollment.finished_at = at
        cancel_open_tasks(session, enrollment, at)
    kind = {
        EnrollmentState.ACTIVE: EventType.RESUMED,
        EnrollmentState.WAITING: EventType.WAITING,
        EnrollmentState.PAUSED: EventType.PAUSED,
        EnrollmentState.STOPPED: EventType.STOPPED,
        EnrollmentState.FINISHED: EventType.FINISHED,
    }[target]
    events.record(session, kind, at, enrollment=enrollment, data=payload)


def cancel_open_tasks(session: Session, enrollment: Enrollment, at: datetime) -> None:
    tasks = session.scalars(
        select(Task).where(Task.enrollment_id == enrollment.id, Task.state == TaskState.OPEN)
    ).all()
    for task in tasks:
        task.state = advance_task(TaskState(task.state), TaskState.CANCELLED)
        task.completed_at = at

"""Enrollment transitions: each one checks the state machine and appends its event.

This is the one place an enrollment ends. Stopping or finishing clears its next run, cancels
its planned messages and its open tasks, whoever asks (tick, sender, bounce, unsubscribe, a
person). The inbound actions keep their own stop because they must be undoable: they leave
planned messages in place for the sender to cancel, so a reclassification can restore them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import (
    EnrollmentState,
    MessageState,
    TaskState,
    advance_enrollment,
    advance_message,
    advance_task,
)
from engine.services import events
from engine.store.models import Enrollment, OutboundMessage, Task


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
        enrollment.paused_until = None
        enrollment.finished_at = at
        cancel_planned_messages(session, enrollment, at, reason or str(target))
        cancel_open_tasks(session, enrollment, at)
    kind = {
        EnrollmentState.ACTIVE: EventType.RESUMED,
        EnrollmentState.WAITING: EventType.WAITING,
        EnrollmentState.PAUSED: EventType.PAUSED,
        EnrollmentState.STOPPED: EventType.STOPPED,
        EnrollmentState.FINISHED: EventType.FINISHED,
    }[target]
    events.record(session, kind, at, enrollment=enrollment, data=payload)


def cancel_planned_messages(
    session: Session, enrollment: Enrollment, at: datetime, reason: str
) -> None:
    planned = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.enrollment_id == enrollment.id,
            OutboundMessage.state == MessageState.PLANNED,
        )
    ).all()
    for message in planned:
        message.state = advance_message(MessageState.PLANNED, MessageState.CANCELLED)
        message.held_reason = reason
        message.updated_at = at
        events.record(
            session, EventType.MESSAGE_CANCELLED, at, message=message, data={"reason": reason}
        )


def cancel_open_tasks(session: Session, enrollment: Enrollment, at: datetime) -> None:
    tasks = session.scalars(
        select(Task).where(Task.enrollment_id == enrollment.id, Task.state == TaskState.OPEN)
    ).all()
    for task in tasks:
        task.state = advance_task(TaskState(task.state), TaskState.CANCELLED)
        task.completed_at = at

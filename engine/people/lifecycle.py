"""Enrollment transitions: each one checks the state machine and appends its event.

This is the one place an enrollment ends. Stopping or finishing clears its next run, cancels
its planned messages and its open tasks (finishing keeps the non-blocking ones), whoever asks
(tick, sender, bounce, unsubscribe, a person). The inbound actions keep their own stop because
they must be undoable: they leave planned messages in place for the sender to cancel, so a
reclassification can restore them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import (
    ENROLLMENT_TRANSITIONS,
    LIVE_ENROLLMENT_STATES,
    EnrollmentState,
    MessageState,
    TaskState,
    advance_enrollment,
    advance_message,
    advance_task,
)
from engine.errors import Conflict
from engine.store import event_log as events
from engine.store.models import Enrollment, OutboundMessage, Prospect, Task

_LIVE = [str(s) for s in LIVE_ENROLLMENT_STATES]


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
        # A finished sequence leaves its non-blocking to-dos (a LinkedIn touch) in the queue:
        # nothing waits for them, but the person still has them to do. A stop cancels all.
        cancel_open_tasks(session, enrollment, at, blocking_only=target == EnrollmentState.FINISHED)
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


def cancel_open_tasks(
    session: Session, enrollment: Enrollment, at: datetime, *, blocking_only: bool = False
) -> None:
    query = select(Task).where(Task.enrollment_id == enrollment.id, Task.state == TaskState.OPEN)
    if blocking_only:
        query = query.where(Task.blocking.is_(True))
    tasks = session.scalars(query).all()
    for task in tasks:
        task.state = advance_task(TaskState(task.state), TaskState.CANCELLED)
        task.completed_at = at


def stop(session: Session, row: Enrollment, *, reason: str, at: datetime) -> None:
    """Stop one live enrollment, cancel its planned messages and open tasks; with events."""
    if EnrollmentState.STOPPED not in ENROLLMENT_TRANSITIONS[EnrollmentState(row.state)]:
        raise Conflict(f"cannot stop an enrollment that is {row.state}")
    move(session, row, EnrollmentState.STOPPED, at, reason=reason)


def stop_for_address(session: Session, *, kind: str, value: str, reason: str, at: datetime) -> int:
    """Stop every live enrollment of the address (kind=email) or domain (kind=domain)."""
    stmt = select(Enrollment).join(Prospect, Prospect.id == Enrollment.prospect_id)
    if kind == "email":
        stmt = stmt.where(Prospect.email_key == value)
    else:
        stmt = stmt.where(Prospect.email_key.like(f"%@{_escape_like(value)}", escape="\\"))
    rows: Sequence[Enrollment] = session.scalars(stmt.where(Enrollment.state.in_(_LIVE))).all()
    for row in rows:
        stop(session, row, reason=reason, at=at)
    return len(rows)


def stop_all_for_prospect(session: Session, prospect_id: int, *, reason: str, at: datetime) -> int:
    rows = session.scalars(
        select(Enrollment).where(Enrollment.prospect_id == prospect_id, Enrollment.state.in_(_LIVE))
    ).all()
    for row in rows:
        stop(session, row, reason=reason, at=at)
    return len(rows)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

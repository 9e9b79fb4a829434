"""Manual email steps: the rendered email waits in its owner's queue until a person edits
and approves it (then it goes through the normal send path: window, caps, contact limits,
at-most-once, threading) or skips it (cancelled; the sequence goes on).

A step is manual with `review: true` (docs/sequences.md). The tick plans its message with
`review = pending` (the sender's claim leaves it alone) and an open `email` task for the
owner; `approve` and `skip` close that task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import MessageState, TaskState, advance_message, advance_task
from engine.errors import Conflict, InvalidInput, NotFound
from engine.sequence_language import markdown
from engine.store import event_log as events
from engine.store.models import Enrollment, OutboundMessage, Sequence, Task

MAX_SUBJECT = 998  # RFC 5322 line length


@dataclass(frozen=True)
class Review:
    id: int
    owner: str | None
    sequence: str
    step: str
    to: str
    subject: str
    body: str
    not_before: datetime


def pending(session: Session, *, owner: str | None = None) -> list[Review]:
    """Manual emails waiting for review, oldest first (only `owner`'s when given)."""
    stmt = (
        select(OutboundMessage, Enrollment.owner, Sequence.key)
        .join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
        .join(Sequence, Sequence.id == OutboundMessage.sequence_id)
        .where(OutboundMessage.state == MessageState.PLANNED, OutboundMessage.review == "pending")
        .order_by(OutboundMessage.not_before, OutboundMessage.id)
    )
    if owner is not None:
        stmt = stmt.where(Enrollment.owner == owner)
    return [_review(m, who, key) for m, who, key in session.execute(stmt)]


def get(session: Session, message_id: int, *, owner: str | None = None) -> Review:
    message, who, key = _load(session, message_id, owner)
    return _review(message, who, key)


def edit(
    session: Session,
    message_id: int,
    *,
    at: datetime,
    by: str,
    subject: str | None = None,
    body: str | None = None,
    owner: str | None = None,
) -> Review:
    """Change the subject and/or the body (Markdown-ish text, as templates write it)."""
    message, who, key = _load(session, message_id, owner)
    changed = []
    if subject is not None:
        message.subject = _clean_subject(subject)
        changed.append("subject")
    if body is not None:
        if not body.strip():
            raise InvalidInput("body: empty (write the email, or skip it instead)")
        text = body.replace("\r\n", "\n")
        message.body_text = text if text.endswith("\n") else text + "\n"
        message.body_html = markdown.to_html(message.body_text)
        changed.append("body")
    if changed:
        message.updated_at = at
        events.record(
            session,
            EventType.MESSAGE_EDITED,
            at,
            message=message,
            data={"by": by, "fields": changed},
        )
    return _review(message, who, key)


def approve(
    session: Session, message_id: int, *, at: datetime, by: str, owner: str | None = None
) -> Review:
    """Release it to the sender: it goes at its planned time (or now, if that has passed)."""
    message, who, key = _load(session, message_id, owner)
    message.review = "approved"
    message.held_reason = None
    message.not_before = max(message.not_before, at)
    message.updated_at = at
    events.record(session, EventType.MESSAGE_APPROVED, at, message=message, data={"by": by})
    _close_task(session, message, TaskState.DONE, at, by)
    return _review(message, who, key)


def skip(
    session: Session, message_id: int, *, at: datetime, by: str, owner: str | None = None
) -> Review:
    """Do not send it; the enrollment goes on with its next step."""
    message, who, key = _load(session, message_id, owner)
    message.state = str(advance_message(MessageState.PLANNED, MessageState.CANCELLED))
    message.held_reason = f"skipped by {by}"
    message.updated_at = at
    events.record(
        session,
        EventType.MESSAGE_CANCELLED,
        at,
        message=message,
        data={"reason": message.held_reason},
    )
    enrollment = session.get(Enrollment, message.enrollment_id)
    if enrollment is not None and enrollment.next_run_at is None:
        enrollment.next_run_at = at  # it waited for this send; a following wait counts from now
        enrollment.step_started_at = at
        enrollment.updated_at = at
    _close_task(session, message, TaskState.SKIPPED, at, by)
    return _review(message, who, key)


def _load(
    session: Session, message_id: int, owner: str | None
) -> tuple[OutboundMessage, str | None, str]:
    row = session.execute(
        select(OutboundMessage, Enrollment.owner, Sequence.key)
        .join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
        .join(Sequence, Sequence.id == OutboundMessage.sequence_id)
        .where(OutboundMessage.id == message_id)
        .with_for_update(of=OutboundMessage)
    ).first()
    if row is None or (owner is not None and row[1] != owner):
        raise NotFound(f"no email #{message_id} to review (see: kadenz review list)")
    message, who, key = row
    if message.review != "pending" or message.state != MessageState.PLANNED:
        raise Conflict(
            f"email #{message_id} is not waiting for review (it is {message.state}"
            + (", approved" if message.review == "approved" else "")
            + ")"
        )
    return message, who, key


def _clean_subject(subject: str) -> str:
    if any(c in subject for c in "\r\n\0"):
        raise InvalidInput("subject: one line, without line breaks (a header cannot hold them)")
    clean = subject.strip()
    if not clean:
        raise InvalidInput("subject: empty (write one)")
    if len(clean) > MAX_SUBJECT:
        raise InvalidInput(f"subject: longer than {MAX_SUBJECT} characters; shorten it")
    return clean


def _close_task(
    session: Session, message: OutboundMessage, target: TaskState, at: datetime, by: str
) -> None:
    task = session.scalar(
        select(Task).where(
            Task.enrollment_id == message.enrollment_id,
            Task.step_id == f"{message.step_id}#review",
            Task.state == TaskState.OPEN,
        )
    )
    if task is None:
        return
    task.state = str(advance_task(TaskState.OPEN, target))
    task.completed_at = at
    task.outcome = "approved" if target == TaskState.DONE else "skipped"
    kind = EventType.TASK_COMPLETED if target == TaskState.DONE else EventType.TASK_SKIPPED
    events.record(
        session,
        kind,
        at,
        prospect_id=task.prospect_id,
        enrollment_id=task.enrollment_id,
        task_id=task.id,
        data={"by": by, "outcome": "approved" if target == TaskState.DONE else "skipped"},
    )


def _review(message: OutboundMessage, owner: str | None, key: str) -> Review:
    return Review(
        id=message.id,
        owner=owner,
        sequence=key,
        step=message.step_id,
        to=message.to_address,
        subject=message.subject,
        body=message.body_text,
        not_before=message.not_before,
    )

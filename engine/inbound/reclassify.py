"""A human corrects the classifier: undo what the wrong class did, apply the right one.

Everything an inbound message did is in its undo log (`data["applied"]`, written by
engine.inbound.actions). Undoing appends compensating events (RESUMED,
UNSUPPRESSED, SCORE_CHANGED, TASK_SKIPPED); the INBOUND_RECLASSIFIED event marks the
point after which the message's events count again (see docs/inbound.md, "Reclassify").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core.classification import AutoReplyKind, Classification, InboundClass, ReplyIntent
from engine.core.events import EventType
from engine.core.states import (
    EnrollmentState,
    MessageState,
    TaskState,
    advance_enrollment,
    advance_message,
    advance_task,
)
from engine.errors import InvalidInput, NotFound
from engine.inbound.ingest import act, from_json, to_json
from engine.people import resume, scores
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    InboundMessage,
    OutboundMessage,
    Prospect,
    Suppression,
    Task,
)


@dataclass(frozen=True)
class ReclassifyResult:
    inbound_id: int
    before: str
    after: str
    before_intent: str | None
    after_intent: str | None
    undone: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def reclassify(
    db: Database,
    clock: Clock,
    inbound_id: int,
    kind: str,
    *,
    intent: str | None = None,
    auto_reply_kind: str | None = None,
    return_date: date | None = None,
    by: str = "cli",
) -> ReclassifyResult:
    """Give inbound message `inbound_id` the class `kind` (and `intent`); undo, then redo."""
    new_kind = _enum(InboundClass, kind, "class")
    new_intent = _enum(ReplyIntent, intent, "--intent") if intent else None
    if new_intent is not None and new_kind is not InboundClass.HUMAN_REPLY:
        raise InvalidInput(f"--intent only applies to human_reply, not {new_kind}")
    now = clock.now()
    with db.session() as session:
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            raise NotFound(
                f"inbound message #{inbound_id} does not exist (see `kadenz inbound list`)"
            )
        old = from_json(row.data.get("classification") or {"kind": row.classification})
        new = _corrected(old, new_kind, new_intent, auto_reply_kind, return_date)
        if (str(new.kind), _s(new.intent)) == (row.classification, row.intent) and (
            new.auto_reply_kind == old.auto_reply_kind
        ):
            raise InvalidInput(
                f"inbound message #{inbound_id} is already {row.classification}"
                + (f" ({row.intent})" if row.intent else "")
            )
        undone = undo(session, now, row)
        before, before_intent = row.classification, row.intent
        history = list(row.data.get("history") or [])
        history.append(
            {
                "at": now.isoformat(),
                "by": by,
                "from": before,
                "from_intent": before_intent,
                "to": str(new.kind),
                "to_intent": _s(new.intent),
                "actions": row.data.get("actions") or [],
                "undone": undone,
            }
        )
        original = row.data.get("original") or {
            "class": before,
            "intent": before_intent,
            "confidence": row.confidence,
            "evidence": list(row.evidence or []),
        }
        row.classification = str(new.kind)
        row.intent = _s(new.intent)
        row.return_date = new.return_date
        row.overridden_by = by[:200]
        row.data = {
            **row.data,
            "classification": to_json(new),
            "original": original,
            "history": history,
            "applied": [],
            "actions": [],
        }
        enrollment = session.get(Enrollment, row.enrollment_id) if row.enrollment_id else None
        message = session.get(OutboundMessage, row.outbound_id) if row.outbound_id else None
        events.record(
            session,
            EventType.INBOUND_RECLASSIFIED,
            now,
            enrollment=enrollment if message is None else None,
            message=message,
            inbound_id=row.id,
            **({"prospect_id": row.prospect_id} if enrollment is None and message is None else {}),
            data={
                "from": before,
                "to": str(new.kind),
                "from_intent": before_intent,
                "to_intent": _s(new.intent),
                "by": by,
            },
        )
        session.flush()
        notes = act(session, now, row, new)
        return ReclassifyResult(
            inbound_id=row.id,
            before=before,
            after=row.classification,
            before_intent=before_intent,
            after_intent=row.intent,
            undone=undone,
            actions=notes,
        )


def _corrected(
    old: Classification,
    kind: InboundClass,
    intent: ReplyIntent | None,
    auto_kind: str | None,
    return_date: date | None,
) -> Classification:
    from dataclasses import replace

    if kind is InboundClass.HUMAN_REPLY:
        intent = intent or old.intent or ReplyIntent.NEUTRAL
    auto: AutoReplyKind | None = None
    if kind is InboundClass.AUTO_REPLY:
        auto = _enum(AutoReplyKind, auto_kind, "auto-reply kind") if auto_kind else None
        auto = auto or old.auto_reply_kind or AutoReplyKind.OUT_OF_OFFICE
    evidence = (*old.evidence, f"reclassified by a person as {kind}")
    return replace(
        old,
        kind=kind,
        intent=intent if kind is InboundClass.HUMAN_REPLY else None,
        auto_reply_kind=auto,
        return_date=return_date or old.return_date,
        confidence=1.0,
        evidence=evidence,
    )


def undo(session: Session, now: datetime, row: InboundMessage) -> list[str]:
    """Take back every effect in the row's undo log, newest first; returns what was undone."""
    notes: list[str] = []
    for entry in reversed(list(row.data.get("applied") or [])):
        op = entry.get("op")
        handler = _UNDO.get(str(op))
        if handler is not None:
            note = handler(session, now, row, entry)
            if note:
                notes.append(note)
    return notes


def _undo_stop(
    session: Session, now: datetime, row: InboundMessage, e: dict[str, Any]
) -> str | None:
    enrollment = session.get(Enrollment, e.get("enrollment_id"))
    if enrollment is None or enrollment.state != EnrollmentState.STOPPED:
        return None
    if enrollment.state_reason != e.get("state_reason"):
        return None  # stopped again since, by something else: leave it
    note = _restore(session, now, row, enrollment, e)
    reopened = [_reopen(session, now, row, task_id) for task_id in e.get("cancelled_tasks") or []]
    return "; ".join([note, *(r for r in reopened if r)])


def _reopen(session: Session, now: datetime, row: InboundMessage, task_id: int) -> str | None:
    """A sequence task the wrong stop cancelled goes back into its owner's queue."""
    task = session.get(Task, task_id)
    if task is None or task.state != TaskState.CANCELLED:
        return None
    task.state = str(advance_task(TaskState.CANCELLED, TaskState.OPEN))
    task.completed_at = None
    _task_event(
        session,
        EventType.TASK_CREATED,
        now,
        task,
        row,
        {"title": task.title, "source": "re-opened: inbound reclassified"},
    )
    return f"task #{task.id} open again"


def _undo_pause(
    session: Session, now: datetime, row: InboundMessage, e: dict[str, Any]
) -> str | None:
    enrollment = session.get(Enrollment, e.get("enrollment_id"))
    if enrollment is None or enrollment.state != EnrollmentState.PAUSED:
        return None
    if f"inbound #{row.id}" not in (enrollment.state_reason or ""):
        return None
    return _restore(session, now, row, enrollment, e)


def _restore(
    session: Session, now: datetime, row: InboundMessage, enrollment: Enrollment, e: dict[str, Any]
) -> str:
    """Put the enrollment back in the state it had before this message touched it."""
    target = EnrollmentState(str(e.get("from") or EnrollmentState.ACTIVE))
    current = EnrollmentState(enrollment.state)
    if current is not target:
        if target is EnrollmentState.WAITING and current is EnrollmentState.STOPPED:
            current = advance_enrollment(current, EnrollmentState.ACTIVE)
        enrollment.state = str(advance_enrollment(current, target))
    enrollment.next_run_at = resume.wake_at(session, enrollment, _dt(e.get("next_run_at")), now)
    enrollment.paused_until = (
        _dt(e.get("paused_until")) if target is EnrollmentState.PAUSED else None
    )
    enrollment.finished_at = None
    enrollment.state_reason = (
        None if target is not EnrollmentState.PAUSED else enrollment.state_reason
    )
    enrollment.updated_at = now
    events.record(
        session,
        EventType.RESUMED,
        now,
        enrollment=enrollment,
        inbound_id=row.id,
        data={"reason": "inbound reclassified", "state": str(target)},
    )
    return f"enrollment #{enrollment.id} back to {target}"


def _undo_suppress(
    session: Session, now: datetime, row: InboundMessage, e: dict[str, Any]
) -> str | None:
    found = session.get(Suppression, e.get("suppression_id"))
    if found is None or found.source != f"inbound:{row.id}":
        return None
    value = found.value or found.value_hash[:12]
    session.delete(found)
    prospect_id = row.prospect_id if session.get(Prospect, row.prospect_id or 0) else None
    events.record(
        session,
        EventType.UNSUPPRESSED,
        now,
        inbound_id=row.id,
        prospect_id=prospect_id,
        data={"kind": found.kind, "reason": "inbound reclassified", "was": found.reason},
    )
    return f"removed suppression of {value}"


def _undo_message(
    session: Session, now: datetime, row: InboundMessage, e: dict[str, Any]
) -> str | None:
    message = session.get(OutboundMessage, e.get("outbound_id"))
    if message is None or message.state != MessageState.BOUNCED:
        return None
    target = MessageState(str(e.get("from") or MessageState.SENT))
    if target is MessageState.AMBIGUOUS:
        target = MessageState.SENT  # a person has now looked at it
    message.state = str(advance_message(MessageState.BOUNCED, target))
    message.updated_at = now
    return f"message #{message.id} back to {target}"


def _undo_task(
    session: Session, now: datetime, row: InboundMessage, e: dict[str, Any]
) -> str | None:
    task = session.get(Task, e.get("task_id"))
    if task is None or task.state != TaskState.OPEN:
        return None
    task.state = str(advance_task(TaskState.OPEN, TaskState.CANCELLED))
    task.completed_at = now
    _task_event(
        session,
        EventType.TASK_SKIPPED,
        now,
        task,
        row,
        {"reason": "inbound reclassified", "state": "cancelled"},
    )
    return f"cancelled task #{task.id}"


def _task_event(
    session: Session,
    kind: EventType,
    now: datetime,
    task: Task,
    row: InboundMessage,
    data: dict[str, Any],
) -> None:
    """A task's compensating event, with the task's dimensions and this inbound message."""
    events.record(
        session,
        kind,
        now,
        task_id=task.id,
        prospect_id=task.prospect_id,
        enrollment_id=task.enrollment_id,
        owner=task.owner,
        inbound_id=row.id,
        data=data,
    )


def _undo_score(
    session: Session, now: datetime, row: InboundMessage, e: dict[str, Any]
) -> str | None:
    prospect = session.get(Prospect, e.get("prospect_id"))
    delta = int(e.get("delta") or 0)
    if prospect is None or not delta:
        return None
    scores.change_score(
        session, now, prospect, -delta, reason=f"inbound #{row.id} reclassified", inbound_id=row.id
    )
    return f"score {-delta:+d} → {prospect.score}"


def _undo_enroll(
    session: Session, now: datetime, row: InboundMessage, e: dict[str, Any]
) -> str | None:
    enrollment = session.get(Enrollment, e.get("enrollment_id"))
    if enrollment is None or enrollment.state not in (
        EnrollmentState.ACTIVE,
        EnrollmentState.PAUSED,
    ):
        return None
    enrollment.state = str(
        advance_enrollment(EnrollmentState(enrollment.state), EnrollmentState.STOPPED)
    )
    enrollment.state_reason = f"inbound #{row.id} reclassified"
    enrollment.next_run_at = None
    enrollment.updated_at = now
    events.record(
        session,
        EventType.STOPPED,
        now,
        enrollment=enrollment,
        inbound_id=row.id,
        data={"reason": "inbound reclassified"},
    )
    return f"stopped enrollment #{enrollment.id} (the move is undone)"


_UNDO = {
    "stop": _undo_stop,
    "pause": _undo_pause,
    "suppress": _undo_suppress,
    "message_state": _undo_message,
    "task": _undo_task,
    "score": _undo_score,
    "enroll": _undo_enroll,
}


def _enum(enum: Any, value: str | None, what: str) -> Any:
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise InvalidInput(f"{what}: {value!r} is not one of {choices}") from None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _s(value: object | None) -> str | None:
    return str(value) if value is not None else None

"""Controls over many enrollments at once: a whole sequence (pause, resume, archive) and bulk
pause/resume/stop by a filter (sequence, owner, company domain, a CSV of addresses).

A sequence pause holds every live enrollment where it is (its planned emails stay planned,
untouched by the sender) and marks each so that resuming the sequence releases exactly those
and not the ones a person or an out-of-office reply paused. Archiving stops new enrollments;
live ones finish, or stop at once with `stop_all`. Reference: docs/sequences.md, "Sequence
controls".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.states import LIVE_ENROLLMENT_STATES, EnrollmentState, MessageState, TaskState
from engine.errors import Conflict, InvalidInput, NotFound
from engine.people import csv_import, lifecycle
from engine.store.models import Enrollment, OutboundMessage, Prospect, Sequence, Task

SEQUENCE_PAUSE = "sequence paused"  # the state_reason prefix a sequence pause writes
_LIVE = [str(s) for s in LIVE_ENROLLMENT_STATES]


@dataclass(frozen=True)
class Filter:
    """Which live enrollments a bulk action touches; every field given must match."""

    sequence: str | None = None
    owner: str | None = None
    domain: str | None = None
    emails: tuple[str, ...] | None = None  # normalised keys

    def empty(self) -> bool:
        return self.sequence is None and self.owner is None and not self.domain and not self.emails


@dataclass
class BulkResult:
    matched: int = 0
    changed: int = 0
    unchanged: list[str] = field(default_factory=list)  # "email in key: why not"


def emails_from_csv(path: Path) -> tuple[str, ...]:
    """The addresses of a CSV's email column (same reading as the import: any encoding,
    delimiter and header naming); a bad address is an error naming its row."""
    source = csv_import.open_csv(path, {})
    column = next(i for i, t in enumerate(source.targets) if t.field == "email")
    keys: list[str] = []
    for row, record in csv_import.iter_records(source):
        value = record[column].strip() if column < len(record) else ""
        try:
            keys.append(addresses.normalise(value).key)
        except addresses.InvalidAddress as exc:
            raise InvalidInput(
                f"{path}:{row}: {value!r} is not an email address ({exc}); fix or delete the row"
            ) from None
    if not keys:
        raise InvalidInput(f"{path}: no addresses in it (one per row under an email header)")
    return tuple(dict.fromkeys(keys))


def select_live(session: Session, which: Filter) -> list[Enrollment]:
    """The live enrollments the filter matches, oldest first."""
    if which.empty():
        raise InvalidInput(
            "say which enrollments: --sequence, --owner, --domain or --csv (or several)"
        )
    stmt = (
        select(Enrollment)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(Enrollment.state.in_(_LIVE))
        .order_by(Enrollment.id)
    )
    if which.sequence is not None:
        stmt = stmt.where(Enrollment.sequence_id == get_sequence(session, which.sequence).id)
    if which.owner is not None:
        stmt = stmt.where(Enrollment.owner == which.owner)
    if which.domain:
        domain = which.domain.strip().lstrip("@").lower()
        stmt = stmt.where(Prospect.email_key.like(f"%@{_escape_like(domain)}", escape="\\"))
    if which.emails:
        stmt = stmt.where(Prospect.email_key.in_(list(which.emails)))
    return list(session.scalars(stmt))


def get_sequence(session: Session, key: str) -> Sequence:
    sequence = session.scalar(select(Sequence).where(Sequence.key == key))
    if sequence is None:
        known = ", ".join(session.scalars(select(Sequence.key).order_by(Sequence.key))) or "none"
        raise NotFound(f"no sequence {key!r} (known: {known})")
    return sequence


def pause(session: Session, rows: list[Enrollment], *, at: datetime, reason: str) -> BulkResult:
    """Hold each live, unpaused enrollment where it is."""
    result = BulkResult(matched=len(rows))
    for row in rows:
        if row.state == EnrollmentState.PAUSED:
            result.unchanged.append(f"enrollment {row.id}: already paused ({row.state_reason})")
            continue
        lifecycle.move(session, row, EnrollmentState.PAUSED, at, reason=reason)
        result.changed += 1
    return result


def resume(
    session: Session, rows: list[Enrollment], *, at: datetime, only_reason: str | None = None
) -> BulkResult:
    """Release paused enrollments (only those whose reason starts with `only_reason`, if
    given). One with an open blocking task waits for it again; one whose email is still
    planned waits for the send; the others run their due step at the next tick."""
    result = BulkResult(matched=len(rows))
    for row in rows:
        if row.state != EnrollmentState.PAUSED or (
            only_reason is not None and not (row.state_reason or "").startswith(only_reason)
        ):
            continue
        row.paused_until = None
        if _open_blocking_task(session, row):
            lifecycle.move(
                session, row, EnrollmentState.WAITING, at, reason="waiting for its open task"
            )
        else:
            if row.next_run_at is None and not _awaits_a_message(session, row):
                row.next_run_at = at
            lifecycle.move(session, row, EnrollmentState.ACTIVE, at)
        result.changed += 1
    return result


def stop(session: Session, rows: list[Enrollment], *, at: datetime, reason: str) -> BulkResult:
    result = BulkResult(matched=len(rows))
    for row in rows:
        lifecycle.stop(session, row, reason=reason, at=at)
        result.changed += 1
    return result


def pause_sequence(session: Session, key: str, *, at: datetime, reason: str | None) -> BulkResult:
    """The kill switch: no step runs and no email leaves for this sequence until resumed."""
    sequence = get_sequence(session, key)
    if sequence.paused:
        raise Conflict(f"sequence {key!r} is already paused ({sequence.paused_reason})")
    sequence.paused = True
    sequence.paused_reason = reason or "paused by a person"
    marker = f"{SEQUENCE_PAUSE}: {sequence.paused_reason}"
    return pause(session, select_live(session, Filter(sequence=key)), at=at, reason=marker)


def resume_sequence(session: Session, key: str, *, at: datetime) -> BulkResult:
    """Release what the sequence pause held (other pauses stay as they are)."""
    sequence = get_sequence(session, key)
    if not sequence.paused:
        raise Conflict(f"sequence {key!r} is not paused; nothing to resume")
    sequence.paused = False
    sequence.paused_reason = None
    rows = select_live(session, Filter(sequence=key))
    return resume(session, rows, at=at, only_reason=SEQUENCE_PAUSE)


def archive_sequence(session: Session, key: str, *, at: datetime, stop_all: bool) -> BulkResult:
    """No new enrollments; live ones finish (or, with `stop_all`, stop now)."""
    sequence = get_sequence(session, key)
    sequence.archived = True
    rows = select_live(session, Filter(sequence=key))
    if stop_all:
        return stop(session, rows, at=at, reason="sequence archived (--stop-all)")
    return BulkResult(matched=len(rows))


def held_by_sequence(session: Session, row: Enrollment) -> bool:
    """Paused because its whole sequence is: only resuming the sequence releases it."""
    sequence = session.get(Sequence, row.sequence_id)
    return row.state == EnrollmentState.PAUSED and sequence is not None and sequence.paused


def _open_blocking_task(session: Session, row: Enrollment) -> bool:
    found = session.scalar(
        select(Task.id)
        .where(Task.enrollment_id == row.id, Task.state == TaskState.OPEN, Task.blocking)
        .limit(1)
    )
    return found is not None


def _awaits_a_message(session: Session, row: Enrollment) -> bool:
    pending = (MessageState.PLANNED, MessageState.SENDING, MessageState.AMBIGUOUS)
    found = session.scalar(
        select(OutboundMessage.id)
        .where(OutboundMessage.enrollment_id == row.id, OutboundMessage.state.in_(pending))
        .limit(1)
    )
    return found is not None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

"""Resume paused enrollments whose pause has run out (out-of-office, a person's pause-until).

The tick resumes expired pauses itself; `resume_due(db, clock)` does the same on its own
(CLI, tests, a separate beat task). Either way `next_run_at` is kept: after an email step it
is NULL while the planned message waits to be sent (the sender holds messages of paused
enrollments and sets `next_run_at` once sent), so waking the enrollment early would run the
next step before the email left. Only an enrollment with nothing to wait for is due now.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState, advance_enrollment
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import Enrollment, OutboundMessage

BATCH = 500


def resume_due(db: Database, clock: Clock, *, limit: int = BATCH) -> int:
    """PAUSED enrollments with `paused_until <= now` → ACTIVE, due now; returns how many."""
    now = clock.now()
    with db.session() as session:
        stmt = (
            select(Enrollment)
            .where(
                Enrollment.state == str(EnrollmentState.PAUSED),
                Enrollment.paused_until.is_not(None),
                Enrollment.paused_until <= now,
            )
            .order_by(Enrollment.paused_until, Enrollment.id)
            .limit(limit)
        )
        if db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(session.scalars(stmt))
        for enrollment in rows:
            until = enrollment.paused_until
            enrollment.state = str(
                advance_enrollment(EnrollmentState.PAUSED, EnrollmentState.ACTIVE)
            )
            enrollment.paused_until = None
            enrollment.next_run_at = wake_at(session, enrollment, enrollment.next_run_at, now)
            enrollment.state_reason = None
            enrollment.updated_at = now
            events.record(
                session,
                EventType.RESUMED,
                now,
                enrollment=enrollment,
                data={
                    "reason": "pause ended",
                    "paused_until": until.isoformat() if until else None,
                },
            )
        return len(rows)


def wake_at(
    session: Session, enrollment: Enrollment, previous: datetime | None, now: datetime
) -> datetime | None:
    """When a resumed enrollment runs next: its own time, or now if nothing else wakes it."""
    if previous is not None:
        return max(previous, now)
    pending = session.scalars(
        select(OutboundMessage.id)
        .where(
            OutboundMessage.enrollment_id == enrollment.id,
            OutboundMessage.state.in_([str(MessageState.PLANNED), str(MessageState.SENDING)]),
        )
        .limit(1)
    ).first()
    return None if pending is not None else now

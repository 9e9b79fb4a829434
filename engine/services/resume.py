"""Resume paused enrollments whose pause has run out (out-of-office, a person's pause-until).

The runner's tick calls `resume_due(db, clock)` before it claims due enrollments.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.clock import Clock
from engine.core.events import EventType
from engine.core.states import EnrollmentState, advance_enrollment
from engine.services import events
from engine.store.db import Database
from engine.store.models import Enrollment

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
            enrollment.next_run_at = now
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

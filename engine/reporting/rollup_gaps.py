"""Events committed out of id order: remembered as gaps and folded when they arrive.

PostgreSQL takes an event's id from a sequence when the row is inserted, not when its
transaction commits, so a refresh can see id 101 committed while 100 is still in flight.
The refresh folds past it and records 100 in `report_gaps`; each later refresh folds the gap
events that have arrived since and forgets them, and forgets the gaps that can no longer
fill: every transaction that was running when the gap was noticed has ended (the current
snapshot's xmin has passed the `horizon` noted then), so the id was rolled back or skipped.

Folding is idempotent and replies are recomputed from all their events, so a late event is
counted exactly once. Residual: a transaction that took its id but had no transaction id yet
when the gap was noticed (the instant between `nextval` and the row insert of one statement)
is not covered by the horizon; if it then outlives a whole refresh cycle, it is missed until
a rebuild. SQLite has no gaps to track: the refresh is the single writer while it reads.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, or_, select, text
from sqlalchemy.orm import Session

from engine.store.models import Event, ReportGap

_NOTE = text(
    "INSERT INTO report_gaps (event_id, horizon) "
    "SELECT g, pg_snapshot_xmax(pg_current_snapshot())::text::bigint "
    "FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g "
    "WHERE NOT EXISTS (SELECT 1 FROM events WHERE events.id = g) "
    "ON CONFLICT DO NOTHING"
)
# More missing ids than this in one batch is a jump of the sequence (setval, a restore), not
# transactions in flight: not worth a row each.
_MAX_MISSING = 100_000
_XMIN = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


def note(session: Session, after: int, upto: int, present: int) -> None:
    """Remember the ids in (after, upto] with no event, when some are missing."""
    if 0 < upto - after - present <= _MAX_MISSING and _tracked(session):
        session.execute(_NOTE, {"first": after + 1, "last": upto})


def arrived(session: Session) -> list[int]:
    """Ids of remembered gaps whose event has committed since; forgets those, and the gaps
    that cannot fill any more. Call before this transaction writes anything (its own id
    would hold the snapshot's xmin back)."""
    if not _tracked(session) or not session.scalar(select(exists().select_from(ReportGap))):
        return []
    xmin = int(session.scalar(_XMIN) or 0)  # first: a commit before it is visible below
    found = list(
        session.scalars(
            select(ReportGap.event_id)
            .join(Event, Event.id == ReportGap.event_id)
            .order_by(ReportGap.event_id)
        )
    )
    session.execute(
        delete(ReportGap).where(or_(ReportGap.event_id.in_(found), ReportGap.horizon <= xmin))
    )
    return found


def _tracked(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"

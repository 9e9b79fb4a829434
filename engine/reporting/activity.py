"""The SDRs' side of a sequence: calls made and their outcomes, tasks done, skipped, overdue.

Read from the tasks themselves (a task is one row with its state and outcome), grouped by
owner, sequence or step, with the email report's filters (dates, owner, sequence, step). The
definitions (`DEFINITIONS`) are shown beside the numbers, as for the email report. A task
cancelled because its enrollment stopped counts nowhere: nobody had to act on it.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import csv_safe
from engine.core.states import TaskState
from engine.errors import InvalidInput
from engine.people import users
from engine.reporting.reports import ReportFilter
from engine.store.models import Enrollment, Sequence, Task

GROUPINGS = ("owner", "sequence", "step")
CALL_OUTCOMES = ("connected", "voicemail", "no_answer", "meeting_booked")
COLUMNS = (
    "group",
    "calls_made",
    *CALL_OUTCOMES,
    "other_outcome",
    "calls_skipped",
    "tasks_done",
    "tasks_skipped",
    "open",
    "overdue",
)
DEFINITIONS: dict[str, str] = {
    "calls_made": "Call tasks done (with any outcome) in the period.",
    "connected": "Calls done with outcome connected (spoke to the prospect).",
    "voicemail": "Calls done with outcome voicemail.",
    "no_answer": "Calls done with outcome no_answer.",
    "meeting_booked": "Calls done with outcome meeting_booked.",
    "other_outcome": "Calls done with another or no outcome.",
    "calls_skipped": "Call tasks skipped in the period.",
    "tasks_done": "Other tasks (not calls) done in the period.",
    "tasks_skipped": "Other tasks skipped in the period.",
    "open": "Calls and tasks still open now (due in the period, when one is given).",
    "overdue": "Open calls and tasks whose due time has passed.",
}


@dataclass(slots=True)
class ActivityRow:
    group: str
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, **{c: self.counts.get(c, 0) for c in COLUMNS[1:]}}


@dataclass(slots=True)
class Activity:
    by: str
    filters: ReportFilter
    rows: list[ActivityRow]
    total: ActivityRow
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "filters": self.filters.as_dict(),
            "columns": list(COLUMNS),
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
            "definitions": self.definitions,
        }

    def as_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv_safe.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in [*self.rows, self.total]:
            writer.writerow(row.as_dict())
        return buffer.getvalue()


def _in_range(at: datetime | None, f: ReportFilter) -> bool:
    if at is None:
        return False
    if f.since and at < datetime.combine(f.since, time.min, UTC):
        return False
    return not (f.until and at >= datetime.combine(f.until + timedelta(days=1), time.min, UTC))


def _facts(task: Task, now: datetime, f: ReportFilter) -> list[str]:
    """What one task adds to its row, by the definitions above."""
    call = task.kind == "call"
    if task.state == TaskState.OPEN:
        if (f.since or f.until) and not _in_range(task.due_at, f):
            return []
        return ["open", *(["overdue"] if task.due_at < now else [])]
    if not _in_range(task.completed_at, f) and (f.since or f.until):
        return []
    if task.state == TaskState.DONE and call:
        outcome = task.outcome if task.outcome in CALL_OUTCOMES else "other_outcome"
        return ["calls_made", str(outcome)]
    if task.state == TaskState.DONE:
        return ["tasks_done"]
    if task.state == TaskState.SKIPPED:
        return ["calls_skipped" if call else "tasks_skipped"]
    return []  # cancelled: the sequence stopped before anyone had to act


def build_activity(
    session: Session, *, by: str = "owner", filters: ReportFilter | None = None, now: datetime
) -> Activity:
    """Calls and tasks per owner, sequence or step, within `filters` (dates, owner, sequence)."""
    if by not in GROUPINGS:
        raise InvalidInput(
            f"--by {by!r} is not an activity grouping (use one of: {', '.join(GROUPINGS)})"
        )
    f = filters or ReportFilter()
    stmt = (
        select(Task, Sequence.key)
        .outerjoin(Enrollment, Enrollment.id == Task.enrollment_id)
        .outerjoin(Sequence, Sequence.id == Enrollment.sequence_id)
    )
    directory = users.Directory.load(session)

    def as_user(raw: str) -> str:  # an owner kept as typed before they were a user: theirs
        found = directory.match(raw) if directory else None
        return found.name if found is not None else raw

    if f.owner:
        wanted = as_user(f.owner)
        spellings = {o for (o,) in session.execute(select(Task.owner).distinct()) if o}
        stmt = stmt.where(
            Task.owner.in_([o for o in spellings if as_user(o) == wanted] or [f.owner])
        )
    if f.sequence:
        stmt = stmt.where(Sequence.key == f.sequence)
    if f.step:
        stmt = stmt.where(Task.step_id == f.step)
    rows: dict[str, ActivityRow] = {}
    total = ActivityRow("total")
    for task, sequence_key in session.execute(stmt):
        facts = _facts(task, now, f)
        if not facts:
            continue
        group = {
            "owner": as_user(task.owner) if task.owner else "(none)",
            "sequence": sequence_key or "(rule-made)",
            "step": f"{sequence_key or '(rule-made)'} / {task.step_id or '-'}",
        }[by]
        row = rows.setdefault(group, ActivityRow(group))
        for fact in facts:
            row.counts[fact] += 1
            total.counts[fact] += 1
    return Activity(by, f, [rows[k] for k in sorted(rows)], total)

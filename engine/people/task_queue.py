"""The SDR queue: today's open calls and tasks, and marking one done or skipped.

Completion is the sending engine's `engine.people.tasks.complete_task` (task → done/skipped,
TASK_COMPLETED / TASK_SKIPPED, a waiting enrollment resumed); this module adds what the queue
needs around it: the outcome vocabulary and ownership.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.states import TaskState
from engine.errors import Conflict, InvalidInput, NotFound
from engine.people import tasks
from engine.store.models import Prospect, Task

_UTC = ZoneInfo("UTC")
OUTCOMES = ("connected", "voicemail", "no_answer", "meeting_booked", "done")


@dataclass(frozen=True, slots=True)
class QueueItem:
    task: Task
    prospect: Prospect | None


def queue(
    session: Session,
    at: datetime,
    *,
    owner: str | None = None,
    include_later: bool = False,
    tz: ZoneInfo = _UTC,
) -> list[QueueItem]:
    """Open tasks due by the end of `at`'s day in `tz` (or all open ones), oldest due first.

    `tz` is the team's timezone (`KADENZ_TIMEZONE`): in Berlin at 23:30 UTC it is already
    tomorrow, and tomorrow's calls belong in the queue.
    """
    stmt = select(Task, Prospect).outerjoin(Prospect, Prospect.id == Task.prospect_id)
    stmt = stmt.where(Task.state == TaskState.OPEN)
    if owner is not None:
        stmt = stmt.where(Task.owner == owner)
    if not include_later:
        stmt = stmt.where(Task.due_at < end_of_day(at, tz))
    stmt = stmt.order_by(Task.due_at, Task.id)
    return [QueueItem(task, prospect) for task, prospect in session.execute(stmt)]


def end_of_day(at: datetime, tz: ZoneInfo) -> datetime:
    """The first instant of the next local day in `tz`, as UTC (DST-safe: local midnight)."""
    today = at.astimezone(tz).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz).astimezone(_UTC)


def get_task(session: Session, task_id: int, owner: str | None = None) -> Task:
    task = session.get(Task, task_id)
    if task is None or (owner is not None and task.owner != owner):
        raise NotFound(f"task {task_id} does not exist (see `kadenz tasks list`)")
    return task


def complete(
    session: Session,
    task_id: int,
    *,
    outcome: str,
    at: datetime,
    by: str | None = None,
    owner: str | None = None,
) -> Task:
    """Mark a task done with an outcome, or skipped with outcome "skip"."""
    if outcome not in (*OUTCOMES, "skip"):
        raise InvalidInput(
            f"outcome {outcome!r} is not known (use one of: {', '.join(OUTCOMES)}, skip)"
        )
    task = get_task(session, task_id, owner)
    if task.state != TaskState.OPEN:
        raise Conflict(f"task {task_id} is already {task.state}")
    if task.kind == "manual_email":
        raise Conflict(
            f"task {task_id} is an email to review: approve or skip the email itself "
            "(kadenz review list, then kadenz review approve|skip ID)"
        )
    # complete_task records MEETING_BOOKED (and stops the sequence when it says so).
    task = tasks.complete_task(
        session,
        task_id,
        None if outcome == "skip" else outcome,
        at,
        skipped=outcome == "skip",
        by=by,
    )
    return task

"""Completing and skipping tasks; a blocking task's enrollment resumes when it is done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import EnrollmentState, TaskState, advance_task
from engine.errors import Conflict, NotFound
from engine.services import events
from engine.services.lifecycle import move
from engine.store.models import Enrollment, Task


def complete_task(
    session: Session, task_id: int, outcome: str | None, at: datetime, *, skipped: bool = False
) -> Task:
    """Mark a task done (with an outcome) or skipped; resume an enrollment waiting for it."""
    task = session.get(Task, task_id, with_for_update=True)
    if task is None:
        raise NotFound(f"task {task_id} does not exist (see `kadenz task list`)")
    if task.state != TaskState.OPEN:
        raise Conflict(f"task {task_id} is already {task.state}")
    target = TaskState.SKIPPED if skipped else TaskState.DONE
    task.state = advance_task(TaskState.OPEN, target)
    task.outcome = None if skipped else outcome
    task.completed_at = at
    enrollment = session.get(Enrollment, task.enrollment_id) if task.enrollment_id else None
    kind = EventType.TASK_SKIPPED if skipped else EventType.TASK_COMPLETED
    events.record(
        session,
        kind,
        at,
        enrollment=enrollment,
        task_id=task.id,
        prospect_id=task.prospect_id,
        data={"outcome": task.outcome},
    )
    if enrollment is not None and task.blocking and enrollment.state == EnrollmentState.WAITING:
        enrollment.next_run_at = at
        enrollment.step_started_at = at  # a following wait counts from completion
        move(session, enrollment, EnrollmentState.ACTIVE, at, data={"via": f"task {task.id}"})
    return task

"""Completing and skipping tasks; a blocking task's enrollment resumes when it is done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import LIVE_ENROLLMENT_STATES, EnrollmentState, TaskState, advance_task
from engine.errors import Conflict, NotFound
from engine.people import lifecycle
from engine.people.lifecycle import move
from engine.sequence_language.model import StopOn
from engine.store import event_log as events
from engine.store.models import Enrollment, SequenceVersion, Task
from engine.workspace.sequences import version_spec

MEETING_BOOKED = "meeting_booked"


def stops_on_meeting(session: Session, enrollment: Enrollment) -> bool:
    if enrollment.state not in LIVE_ENROLLMENT_STATES:
        return False
    version = session.get(SequenceVersion, enrollment.version_id)
    return version is not None and StopOn.MEETING_BOOKED in version_spec(version).stop_on


def complete_task(
    session: Session,
    task_id: int,
    outcome: str | None,
    at: datetime,
    *,
    skipped: bool = False,
    by: str | None = None,
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
    if outcome == MEETING_BOOKED and not skipped:
        events.record(
            session,
            EventType.MEETING_BOOKED,
            at,
            enrollment=enrollment,
            task_id=task.id,
            prospect_id=task.prospect_id,
            data={"by": by} if by else {},  # the CLI does not know who is typing
        )
        if enrollment is not None and stops_on_meeting(session, enrollment):
            # The point of the sequence is reached: no breakup email after a booked meeting.
            lifecycle.stop(session, enrollment, reason=f"meeting booked (task {task.id})", at=at)
            return task
    if enrollment is not None and task.blocking and enrollment.state == EnrollmentState.WAITING:
        enrollment.next_run_at = at
        enrollment.step_started_at = at  # a following wait counts from completion
        move(session, enrollment, EnrollmentState.ACTIVE, at, data={"via": f"task {task.id}"})
    return task

"""The tick: claim due enrollments and execute their current step, exactly once.

Claiming is `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (any number of ticks at once
each get different rows) and the single writer (`BEGIN IMMEDIATE`) on SQLite. A step's
effects — the planned message, the task, the moved pointer, the events — commit together;
the unique (enrollment_id, step_id) constraints on messages and tasks are the last line of
defence: a step can never produce two emails or two tasks.

After an email step the enrollment has `next_run_at = NULL`: it waits for its message to be
*sent*. The sender then sets `step_started_at = sent_at` and `next_run_at = sent_at`, so a
following "wait: 3 business days" counts from when the email really left (docs/sending.md).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState, TaskState
from engine.errors import KadenzError
from engine.mail.compose import new_message_id
from engine.outbound.prefetch import PlannedEmail, Prefetched
from engine.outbound.runtime import (
    MissingVariable,
    Placement,
    Runtimes,
    Slot,
    Step,
    VersionRuntime,
    sending_user,
)
from engine.people import suppression
from engine.people.lifecycle import move
from engine.schedule.planner import explain as explain_slot
from engine.sequence_language.model import CallStep, EmailStep, TaskStep, WaitStep
from engine.settings import Settings
from engine.store import event_log as events
from engine.store import rows as rows_
from engine.store import statistics
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Prospect,
    Sequence,
    Task,
    User,
)

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    executed: int = 0  # steps executed
    emails_planned: int = 0
    tasks_created: int = 0
    waits: int = 0
    finished: int = 0
    stopped: int = 0
    paused: int = 0
    resumed: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: TickReport) -> None:
        for name in (
            "executed",
            "emails_planned",
            "tasks_created",
            "waits",
            "finished",
            "stopped",
            "paused",
            "resumed",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def summary(self) -> str:
        return (
            f"{self.executed} steps executed: {self.emails_planned} emails planned, "
            f"{self.tasks_created} tasks, {self.waits} waits, {self.finished} finished, "
            f"{self.stopped} stopped, {self.paused} paused"
        )


def tick(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    batch_size: int | None = None,
    limit: int | None = None,
    runtimes: Runtimes | None = None,
    after_batch: Callable[[TickReport], None] | None = None,
) -> TickReport:
    """Execute every due step (at most `limit`), in batches of `batch_size` per transaction;
    `after_batch` gets the running report after each committed batch (a worker nudges the
    senders there as soon as a batch planned emails)."""
    report = TickReport()
    cache = runtimes or Runtimes()
    size = batch_size or settings.batch_size
    with db.session() as session:
        _resume_expired_pauses(session, db.dialect, clock.now(), report)
    while limit is None or report.executed < limit:
        n = size if limit is None else min(size, limit - report.executed)
        with db.session() as session:
            now = clock.now()
            stmt = (
                select(Enrollment)
                .where(Enrollment.state == EnrollmentState.ACTIVE, Enrollment.next_run_at <= now)
                .order_by(Enrollment.next_run_at, Enrollment.id)
                .limit(n)
            )
            if db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            batch = session.scalars(stmt).all()
            if batch:
                _execute_batch(session, list(batch), now, settings, cache, report, db.dialect)
        if not batch:
            break
        if after_batch is not None:
            after_batch(report)
    if report.executed:
        # Thousands of new messages at once: the planner learns of them now, not at
        # autovacuum's next round (engine.store.statistics).
        with db.session() as session:
            statistics.refresh(session, report.executed)
    return report


def _execute_batch(
    session: Session,
    batch: list[Enrollment],
    now: datetime,
    settings: Settings,
    cache: Runtimes,
    report: TickReport,
    dialect: str,
) -> None:
    """Execute a claimed batch in one transaction, with no savepoint per step.

    What every step reads (prospects, mailboxes, suppressions, replies, previous emails) is
    loaded for the whole batch in a few queries, and the new rows are inserted together at
    the end. If anything raises, the whole batch is rolled back and run again the careful
    way — one savepoint per step — so the failing step pauses its enrollment alone.
    """
    part = TickReport()
    ids = [e.id for e in batch]
    try:
        ahead = Prefetched.load(session, batch, cache)
        # Events as rows inserted together (no savepoint here can roll one back: a task's
        # savepoint only wraps its INSERT, its events are recorded after it succeeded).
        with events.batched(session):
            for enrollment in batch:
                execute_step(session, enrollment, now, settings, cache, part, ahead)
                part.executed += 1
        session.flush()  # the other steps' enrollments (one executemany) and tasks
        _insert_emails(session, ahead.emails, now)
    except OperationalError:
        raise  # the database itself failed (connection cut, lock timeout): see _execute_guarded
    except Exception:
        log.info("batch of %d steps failed; running it again step by step", len(batch))
        session.rollback()
        # The rollback released the claim: claim again what is still ours to run.
        stmt = select(Enrollment).where(
            Enrollment.id.in_(ids),
            Enrollment.state == EnrollmentState.ACTIVE,
            Enrollment.next_run_at <= now,
        )
        if dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        again = {e.id: e for e in session.scalars(stmt).all()}
        for enrollment_id in ids:  # same order as the first attempt
            if enrollment_id in again:
                _execute_guarded(session, again[enrollment_id], now, settings, cache, report)
        return
    report.merge(part)


def _insert_emails(session: Session, emails: list[PlannedEmail], now: datetime) -> None:
    """The batch's new messages in one INSERT, their enrollments moved on in one UPDATE,
    then their two events each in one INSERT.

    A duplicate (enrollment_id, step_id) fails the INSERT and so the batch, which is then
    run again step by step: the unique constraint still decides (module docstring).
    """
    if not emails:
        return
    table = cast(Table, OutboundMessage.__table__)
    ids = rows_.insert_with_ids(session, table, [e.row for e in emails], "enrollment_id")
    enrollments = cast(Table, Enrollment.__table__)
    rows_.update_by_id(session, enrollments, [{"id": e.enrollment.id, **e.moved} for e in emails])
    rows = []
    for email in emails:
        message = {key: email.row[key] for key in events.MESSAGE_DIMS}
        rows.append(
            events.values(
                EventType.MESSAGE_PLANNED,
                now,
                **message,
                outbound_id=ids[email.enrollment.id],
                data=email.planned,
            )
        )
        rows.append(
            events.values(
                EventType.STEP_EXECUTED,
                now,
                enrollment=email.enrollment,
                step_id=email.step_id,
                variant=email.variant,
                data={"type": "email"},
            )
        )
    events.insert_rows(session, rows)


def _resume_expired_pauses(
    session: Session, dialect: str, now: datetime, report: TickReport
) -> None:
    """A pause with an end (out-of-office until a date) ends by itself.

    `next_run_at` stays NULL while a planned email waits to be sent (the sender sets it);
    an enrollment with nothing to wait for becomes due now.
    """
    stmt = select(Enrollment).where(
        Enrollment.state == EnrollmentState.PAUSED,
        Enrollment.paused_until.is_not(None),
        Enrollment.paused_until <= now,
        # a paused sequence holds everyone, out-of-office returns too (people.controls)
        Enrollment.sequence_id.not_in(select(Sequence.id).where(Sequence.paused)),
    )
    if dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    for enrollment in session.scalars(stmt).all():
        enrollment.paused_until = None
        if enrollment.next_run_at is None and not _awaits_a_message(session, enrollment):
            enrollment.next_run_at = now
        move(session, enrollment, EnrollmentState.ACTIVE, now, data={"via": "pause ended"})
        report.resumed += 1


def _awaits_a_message(session: Session, enrollment: Enrollment) -> bool:
    pending = (MessageState.PLANNED, MessageState.SENDING, MessageState.AMBIGUOUS)
    found = session.scalars(
        select(OutboundMessage.id)
        .where(OutboundMessage.enrollment_id == enrollment.id, OutboundMessage.state.in_(pending))
        .limit(1)
    ).first()
    return found is not None


def _execute_guarded(
    session: Session,
    enrollment: Enrollment,
    now: datetime,
    settings: Settings,
    cache: Runtimes,
    report: TickReport,
) -> None:
    """Run one step in a savepoint; an unexpected error pauses that enrollment, not the tick."""
    try:
        with session.begin_nested():
            execute_step(session, enrollment, now, settings, cache, report)
        report.executed += 1
    except OperationalError:
        # Not this step's fault: the connection was cut, a lock timed out, a deadlock was
        # broken. Pausing the enrollment would be wrong (and cannot be written anyway): the
        # tick fails, its transaction rolls back, and the next tick runs the batch again.
        raise
    except Exception as exc:
        log.exception("step of enrollment %s failed", enrollment.id)
        report.errors.append(f"enrollment {enrollment.id}: {type(exc).__name__}: {exc}")
        session.refresh(enrollment)
        reason = (
            f"step {enrollment.step_id}: {str(exc).splitlines()[0]}"  # e.g. a never-open window
            if isinstance(exc, KadenzError)
            else f"internal error in step {enrollment.step_id}: {type(exc).__name__}"
        )
        with session.begin_nested():
            move(session, enrollment, EnrollmentState.PAUSED, now, reason=reason)
        report.paused += 1


def execute_step(
    session: Session,
    enrollment: Enrollment,
    now: datetime,
    settings: Settings,
    cache: Runtimes,
    report: TickReport,
    ahead: Prefetched | None = None,
) -> None:
    """Re-check what may stop the enrollment, then execute its current step and advance.

    With `ahead` (a batch), reads come from what was prefetched and new rows are inserted
    at the end of the batch; without it, every read is a query and every insert a savepoint.
    """
    if ahead is not None:
        prospect = ahead.prospects.get(enrollment.prospect_id)
        mailbox = ahead.mailboxes.get(enrollment.mailbox_id or 0)
        user = sending_user(ahead.users, mailbox)
    else:
        prospect = session.get(Prospect, enrollment.prospect_id)
        mailbox = session.get(Mailbox, enrollment.mailbox_id) if enrollment.mailbox_id else None
        user = sending_user({}, mailbox, session)
    runtime = cache.get(session, enrollment.version_id)
    reason = _stop_reason(session, enrollment, prospect, runtime, ahead)
    if reason is not None:
        move(session, enrollment, EnrollmentState.STOPPED, now, reason=reason)
        report.stopped += 1
        return
    assert prospect is not None
    step = runtime.step_at(enrollment.step_index)
    if step is None:
        move(session, enrollment, EnrollmentState.FINISHED, now)
        report.finished += 1
        return
    if isinstance(step, EmailStep):
        _email_step(
            session, enrollment, prospect, mailbox, step, runtime, now, settings, report, ahead,
            user,
        )  # fmt: skip
    elif isinstance(step, WaitStep):
        _wait_step(session, enrollment, prospect, mailbox, step, runtime, now, report)
    elif isinstance(step, CallStep | TaskStep):
        _task_step(session, enrollment, prospect, mailbox, step, runtime, now, report, user)
    else:
        _pause(session, enrollment, now, f"unknown step type {step.type!r}", report)


def _stop_reason(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect | None,
    runtime: VersionRuntime,
    ahead: Prefetched | None = None,
) -> str | None:
    if prospect is None or prospect.erased_at is not None or not prospect.email:
        return "prospect erased"
    if ahead is not None:
        why = ahead.suppressed.get(prospect.email)
        if why is not None:
            return f"suppressed ({why})"
        if "reply" in runtime.spec.stop_on and enrollment.id in ahead.replied:
            return "replied"
        return None
    found = suppression.find(session, prospect.email)
    if found is not None:
        return f"suppressed ({found.reason})"
    if "reply" in runtime.spec.stop_on:
        replied = session.scalars(
            select(InboundMessage.id)
            .where(
                InboundMessage.enrollment_id == enrollment.id,
                InboundMessage.classification == "human_reply",
            )
            .limit(1)
        ).first()
        if replied is not None:
            return "replied"
    return None


def _advance(enrollment: Enrollment, runtime: VersionRuntime, now: datetime) -> None:
    for name, value in _advanced(enrollment, runtime, now).items():
        setattr(enrollment, name, value)


def _advanced(enrollment: Enrollment, runtime: VersionRuntime, now: datetime) -> dict[str, Any]:
    """The columns `_advance` sets: on to the next step."""
    index = enrollment.step_index + 1
    nxt = runtime.step_at(index)
    return {
        "step_index": index,
        "step_id": nxt.id if nxt is not None else None,
        "state_reason": None,
        "updated_at": now,
    }


def choose_variant(enrollment_id: int, step: EmailStep) -> str:
    """Deterministic and balanced: consecutive enrollments take the variants in turn,
    each as often as its weight says (a weight of 0 switches a variant off)."""
    weights = [(name, weight) for name, weight in step.weights().items() if weight > 0]
    if not weights:
        return step.variant_names()[0]
    offset = sum(ord(c) for c in step.id)  # different steps start the rotation elsewhere
    slot = (enrollment_id + offset) % sum(w for _, w in weights)
    for name, weight in weights:
        if slot < weight:
            return name
        slot -= weight
    return weights[-1][0]


def _email_step(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect,
    mailbox: Mailbox | None,
    step: EmailStep,
    runtime: VersionRuntime,
    now: datetime,
    settings: Settings,
    report: TickReport,
    ahead: Prefetched | None = None,
    user: User | None = None,
) -> None:
    if mailbox is None:
        _pause(session, enrollment, now, "no mailbox assigned to this enrollment", report)
        return
    variant = enrollment.variants.get(step.id) or choose_variant(enrollment.id, step)
    previous = None
    if step.thread == "previous":
        previous = (
            ahead.previous.get(enrollment.id)
            if ahead is not None
            else _previous_email(session, enrollment)
        )
    try:
        rendered = runtime.renderer.render_email(
            step,
            variant,
            runtime.context(prospect, mailbox, user),
            previous_subject=previous.subject if previous is not None else "",
        )
    except MissingVariable as exc:
        _missing_data(session, enrollment, prospect, step, exc.names, now, report, mailbox)
        return
    recorded = variant if step.variants else None  # "default" is not an A/B variant
    variants = enrollment.variants
    if recorded is not None:
        variants = {**variants, step.id: recorded}
    in_reply_to, references = None, []
    if previous is not None:
        in_reply_to = previous.message_id
        references = [*previous.references, previous.message_id][-10:]
    placement = runtime.placement(prospect, mailbox)
    slot = plan_send(placement, now, f"{enrollment.id}:{step.id}")
    domain = settings.message_id_domain or mailbox.address.rsplit("@", 1)[-1]
    row: dict[str, Any] = {
        "enrollment_id": enrollment.id,
        "step_id": step.id,
        "prospect_id": prospect.id,
        "mailbox_id": mailbox.id,
        "sequence_id": enrollment.sequence_id,
        "version_id": enrollment.version_id,
        "variant": recorded,
        "state": str(MessageState.PLANNED),
        "to_address": prospect.email or "",
        "from_address": mailbox.address,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "message_id": new_message_id(domain),
        "in_reply_to": in_reply_to,
        "references": references,
        "headers": {},
        "not_before": slot.at,
        "held_reason": f"send window: {explain_slot(slot)}" if slot.at > now else None,
        "attempts": 0,
        "lease_until": None,
        "sent_at": None,
        "smtp_code": None,
        "smtp_status": None,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
    }
    planned_data = {"not_before": slot.at.isoformat(), "local": slot.local.isoformat()}
    if step.review:  # a manual email: held for its owner's review (engine.outbound.review)
        owner = enrollment.owner or prospect.owner or "the owner"
        row["review"] = "pending"
        row["held_reason"] = f"awaiting review by {owner}; approve or skip it: kadenz review list"
        planned_data["review"] = "pending"
    if ahead is not None and not step.review:
        # Batched: inserted with the batch (`_insert_emails`), events after it (they need
        # the message's id); the enrollment moves on in one UPDATE for the batch, so its
        # ORM object is left as loaded.
        moved = {**_advanced(enrollment, runtime, now), "next_run_at": None, "variants": variants}
        executed = enrollment.step_id  # as the STEP_EXECUTED event of an unbatched step says
        ahead.emails.append(PlannedEmail(row, enrollment, executed, recorded, planned_data, moved))
        report.emails_planned += 1
        return
    enrollment.variants = variants
    message = OutboundMessage(**row)
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        # Planned by an earlier run of this very step: never a second email.
        log.warning("enrollment %s step %s already has a message", enrollment.id, step.id)
    else:
        events.record(
            session,
            EventType.MESSAGE_PLANNED,
            now,
            message=message,
            data=planned_data,
        )
        report.emails_planned += 1
        if step.review:
            _review_task(session, enrollment, prospect, step, message, now, report)
    events.record(
        session,
        EventType.STEP_EXECUTED,
        now,
        enrollment=enrollment,
        variant=recorded,
        data={"type": "email"},
    )
    _advance(enrollment, runtime, now)
    enrollment.next_run_at = None  # wait for the send: the sender sets it (module docstring)


def _review_task(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect,
    step: EmailStep,
    message: OutboundMessage,
    now: datetime,
    report: TickReport,
) -> None:
    """The manual email's entry in its owner's queue (done when approved, skipped when
    skipped: engine.outbound.review)."""
    _owner_task(
        session, enrollment, prospect, now, report,
        kind="manual_email",
        step_id=f"{step.id}#review",
        title=f"Review the email {message.subject!r} to {prospect.email or prospect.id}",
        notes=f"kadenz review show {message.id}; then approve or skip it",
        due_at=message.not_before,
        outbound_id=message.id,
        data={"kind": "manual_email", "review": message.id},
    )  # fmt: skip


def _owner_task(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect,
    now: datetime,
    report: TickReport,
    *,
    kind: str,
    step_id: str,
    title: str,
    notes: str | None,
    due_at: datetime,
    data: dict[str, object],
    outbound_id: int | None = None,
    blocking: bool = False,
) -> Task:
    """An open task in the enrollment's owner's queue, with its TASK_CREATED event. A task
    that is already there (same enrollment and step id) raises IntegrityError with nothing
    written."""
    task = Task(
        kind=kind,
        prospect_id=prospect.id,
        enrollment_id=enrollment.id,
        step_id=step_id,
        owner=enrollment.owner or prospect.owner,
        title=title,
        notes=notes,
        state=TaskState.OPEN,
        blocking=blocking,
        due_at=due_at,
        created_at=now,
    )
    with session.begin_nested():
        session.add(task)
        session.flush()
    events.record(
        session,
        EventType.TASK_CREATED,
        now,
        enrollment=enrollment,
        task_id=task.id,
        outbound_id=outbound_id,
        data=data,
    )
    report.tasks_created += 1
    return task


def plan_send(placement: Placement, due: datetime, spread_key: str) -> Slot:
    """When an email due at `due` goes out (`Placement.plan_send`, which explain shares)."""
    return placement.plan_send(due, spread_key)


def _previous_email(session: Session, enrollment: Enrollment) -> OutboundMessage | None:
    return session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.enrollment_id == enrollment.id,
            OutboundMessage.state.not_in([MessageState.CANCELLED]),
        )
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    ).first()


def _wait_step(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect,
    mailbox: Mailbox | None,
    step: WaitStep,
    runtime: VersionRuntime,
    now: datetime,
    report: TickReport,
) -> None:
    start = enrollment.step_started_at or now
    until = runtime.placement(prospect, mailbox).add_wait(start, step.duration)
    events.record(
        session,
        EventType.STEP_EXECUTED,
        now,
        enrollment=enrollment,
        data={"type": "wait", "from": start.isoformat(), "until": until.isoformat()},
    )
    _advance(enrollment, runtime, now)
    enrollment.next_run_at = until
    enrollment.step_started_at = until
    report.waits += 1


def _task_step(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect,
    mailbox: Mailbox | None,
    step: CallStep | TaskStep,
    runtime: VersionRuntime,
    now: datetime,
    report: TickReport,
    user: User | None = None,
) -> None:
    context = runtime.context(prospect, mailbox, user)
    try:
        title = runtime.renderer.render_text(step.title, context)
        notes = runtime.renderer.render_text(step.notes, context) if step.notes else None
    except MissingVariable as exc:
        _missing_data(session, enrollment, prospect, step, exc.names, now, report, mailbox)
        return
    placement = runtime.placement(prospect, mailbox)
    due_at = placement.add_wait(now, step.due)
    try:
        task = _owner_task(
            session, enrollment, prospect, now, report,
            kind=step.type,
            step_id=step.id,
            title=title,
            notes=notes,
            due_at=due_at,
            blocking=step.blocking,
            data={"kind": step.type, "due_at": due_at.isoformat(), "blocking": step.blocking},
        )  # fmt: skip
    except IntegrityError:  # executed before (a retried tick): the task it made stands
        task = session.scalars(
            select(Task).where(Task.enrollment_id == enrollment.id, Task.step_id == step.id)
        ).one()
    events.record(
        session,
        EventType.STEP_EXECUTED,
        now,
        enrollment=enrollment,
        task_id=task.id,
        data={"type": step.type},
    )
    _advance(enrollment, runtime, now)
    enrollment.step_started_at = now
    if step.blocking and task.state == TaskState.OPEN:
        enrollment.next_run_at = None
        move(
            session,
            enrollment,
            EnrollmentState.WAITING,
            now,
            reason=f"waiting for task {task.id}: {title}",
            data={"task_id": task.id},
        )
    else:
        enrollment.next_run_at = now


def _pause(
    session: Session, enrollment: Enrollment, now: datetime, reason: str, report: TickReport
) -> None:
    enrollment.next_run_at = now  # a resume re-runs the step
    move(session, enrollment, EnrollmentState.PAUSED, now, reason=reason)
    report.paused += 1


def _missing_data(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect,
    step: Step,
    names: list[str],
    now: datetime,
    report: TickReport,
    mailbox: Mailbox | None = None,
) -> None:
    """DESIGN inv. 5: no "Hi ," — pause, and ask the owner to fill the data in."""
    missing = ", ".join(names)
    who = prospect.email or f"prospect {prospect.id}"
    fix = sender_fix(names, mailbox)
    with contextlib.suppress(IntegrityError):  # the same request is already in the queue
        _owner_task(
            session, enrollment, prospect, now, report,
            kind="task",
            step_id=f"{step.id}#data",
            title=f"Fill in {missing} for {who}",
            notes=f"Step {step.id} needs {missing}; {fix or 'fill it in'}, then resume the "
            "enrollment.",
            due_at=now,
            data={"kind": "task", "reason": "missing data"},
        )  # fmt: skip
    reason = f"missing variable: {missing}" + (f" ({fix})" if fix else "")
    _pause(session, enrollment, now, reason, report)


def sender_fix(names: list[str], mailbox: Mailbox | None) -> str | None:
    """How to supply a missing `sender.*` value: it lives on the sending user, not the
    prospect, so the fix is a `kadenz user` or `kadenz mailbox` command."""
    if "sender.booking_link" not in names or mailbox is None:
        return None
    if not mailbox.owner:
        return (
            f"mailbox {mailbox.name} belongs to no user: kadenz mailbox update {mailbox.name} "
            "--owner USER, and give that user a --booking-link"
        )
    return (
        f"{mailbox.owner}, who sends from {mailbox.name}, has no booking link: "
        f"kadenz user update {mailbox.owner} --booking-link URL"
    )

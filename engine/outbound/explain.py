"""`kadenz explain EMAIL`: where each of a prospect's enrollments is, what comes next, and why.

Everything is read, nothing is changed: the next send time is computed with the same
planner the tick uses, and what holds a message (window, holiday, cap, retry, a paused
mailbox, an open task, an ambiguous send) is said in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState, TaskState
from engine.errors import NotFound
from engine.outbound.runtime import Placement, Runtimes, VersionRuntime
from engine.people import consent, consent_records, suppression
from engine.schedule.planner import SendPolicy
from engine.schedule.planner import explain as explain_slot
from engine.store.models import (
    Enrollment,
    Event,
    Mailbox,
    OutboundMessage,
    Prospect,
    Sequence,
    SequenceVersion,
    Task,
)


@dataclass
class MessageLine:
    id: int
    step: str
    state: str
    at: datetime | None  # sent_at, or not_before while planned
    subject: str
    detail: str  # smtp reply, held reason or error


@dataclass
class EnrollmentExplanation:
    id: int
    sequence: str
    version: int
    state: str
    reason: str | None
    step: str | None
    mailbox: str | None
    timezone: str
    next_action: str
    next_at: datetime | None = None  # when the next email goes out, as the tick will decide
    holidays: str = "none"
    holds: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)  # open non-blocking tasks: they hold nothing
    messages: list[MessageLine] = field(default_factory=list)


@dataclass
class ProspectExplanation:
    email: str
    suppressed: str | None
    enrollments: list[EnrollmentExplanation]
    consent: str | None = None  # the consent policy's verdict (None: no policy pushed)


def explain_prospect(session: Session, email: str, now: datetime) -> ProspectExplanation:
    key = addresses.key_of(email)
    prospect = session.scalars(select(Prospect).where(Prospect.email_key == key)).first()
    if prospect is None:
        raise NotFound(f"no prospect with the email {email!r} (check the spelling)")
    found = suppression.find(session, prospect.email or key)
    runtimes = Runtimes()
    enrollments = session.scalars(
        select(Enrollment).where(Enrollment.prospect_id == prospect.id).order_by(Enrollment.id)
    ).all()
    return ProspectExplanation(
        email=prospect.email or key,
        suppressed=f"{found.reason} ({found.kind})" if found else None,
        enrollments=[_one(session, e, prospect, runtimes, now) for e in enrollments],
        consent=_consent(session, prospect),
    )


def _consent(session: Session, prospect: Prospect) -> str | None:
    """One line: may this prospect be emailed under the workspace's consent policy?"""
    policy = consent_records.load(session)
    if policy is None:
        return None
    facts = consent_records.facts(session, {prospect.id}).get(prospect.id)
    if facts is None:
        return None
    decision = consent.decide(policy, facts)
    if decision.allowed:
        return f"allowed: {decision.reason}"
    then = (
        "emails are skipped, calls and tasks go on"
        if policy.without_consent == consent.WithoutConsent.SKIP_EMAIL
        else "no email is sent until consent is recorded"
    )
    return f"{decision.reason.removeprefix('consent: ')} — {then}"


def _one(
    session: Session, e: Enrollment, prospect: Prospect, runtimes: Runtimes, now: datetime
) -> EnrollmentExplanation:
    runtime = runtimes.get(session, e.version_id)
    sequence = session.get(Sequence, e.sequence_id)
    mailbox = session.get(Mailbox, e.mailbox_id) if e.mailbox_id else None
    placement = runtime.placement(prospect, mailbox)
    messages = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.enrollment_id == e.id)
        .order_by(OutboundMessage.id)
    ).all()
    out = EnrollmentExplanation(
        id=e.id,
        sequence=sequence.key if sequence else str(e.sequence_id),
        version=_version_number(session, e.version_id),
        state=e.state,
        reason=e.state_reason,
        step=e.step_id,
        mailbox=_sender(session, e, mailbox),
        timezone=f"{placement.tz.key} ({placement.tz_source})",
        next_action="",
        holidays=_holidays(
            runtime.spec.schedule.per_prospect_holidays,
            placement.policy,
            own=placement.policy is not runtime.policy,
        ),
        messages=[_line(m) for m in messages],
    )
    if mailbox is not None and mailbox.paused:
        out.holds.append(f"mailbox {mailbox.name} is paused: {mailbox.paused_reason}")
    open_tasks = session.scalars(
        select(Task).where(Task.enrollment_id == e.id, Task.state == TaskState.OPEN)
    ).all()
    for task in open_tasks:
        due = _both(task.due_at, placement)
        line = f"open {task.kind} #{task.id} for {task.owner}: {task.title} (due {due})"
        (out.holds if task.blocking else out.tasks).append(line)
    out.next_action = _next_action(e, runtime, placement, list(messages), now, out)
    awaiting = [m for m in messages if m.state in (MessageState.PLANNED, MessageState.AMBIGUOUS)]
    if e.next_run_at is None and e.state == EnrollmentState.ACTIVE and awaiting:
        out.step = f"{awaiting[-1].step_id} (email {awaiting[-1].state})"
    return out


def _next_action(
    e: Enrollment,
    runtime: VersionRuntime,
    placement: Placement,
    msgs: list[OutboundMessage],
    now: datetime,
    out: EnrollmentExplanation,
) -> str:
    holds = out.holds
    state = EnrollmentState(e.state)
    if state in (EnrollmentState.STOPPED, EnrollmentState.FINISHED):
        return f"none: {state}" + (f" ({e.state_reason})" if e.state_reason else "")
    if state == EnrollmentState.PAUSED:
        until = f" until {_both(e.paused_until, placement)}" if e.paused_until else ""
        holds.append(f"paused{until}: {e.state_reason}")
        return f"none while paused (a resume continues with step {e.step_id})"
    if state == EnrollmentState.WAITING:
        return f"waits for a person: {e.state_reason}"
    pending = (MessageState.PLANNED, MessageState.SENDING, MessageState.AMBIGUOUS)
    live = [m for m in msgs if m.state in pending]
    if e.next_run_at is None and live:
        m = live[-1]
        if m.state == MessageState.AMBIGUOUS:
            holds.append(
                f"message #{m.id} may or may not have been delivered ({m.last_error}); "
                f"a person decides: kadenz message resolve {m.id} --sent|--failed"
            )
            return f"email {m.step_id}: awaiting a human decision"
        if m.state == MessageState.SENDING:
            return f"email {m.step_id} is being sent now (lease until {m.lease_until:%H:%M} UTC)"
        if m.held_reason:
            holds.append(m.held_reason)
        out.next_at = max(m.not_before, now)
        if m.not_before > now:
            return f"email {m.step_id} at {_both(m.not_before, placement)}"
        return f"email {m.step_id} is due now: it goes out with the next send round"
    if e.next_run_at is None:
        return "none: waiting for its last email to settle"
    step = runtime.step_at(e.step_index)
    if step is None:
        return f"finishes at {_both(max(e.next_run_at, now), placement)}"
    due = max(e.next_run_at, now)
    if step.type == "email":
        # The tick plans it when it runs at `due`, with this very decision.
        slot = placement.plan_send(due, f"{e.id}:{step.id}")
        out.next_at = slot.at
        if slot.at == due:
            return f"next email {step.id} goes out {_both(due, placement)}: the window is open"
        return f"next email {step.id} {explain_slot(slot)}"
    if step.type == "wait":
        return f"wait {step.id} starts {_both(due, placement)}"
    return f"{step.type} {step.id} is created {_both(due, placement)}"


def _both(instant: datetime | None, placement: Placement) -> str:
    if instant is None:
        return "-"
    local = instant.astimezone(placement.tz)
    return f"{instant:%Y-%m-%d %H:%M} UTC ({local:%a %H:%M} {placement.tz.key})"


def _line(m: OutboundMessage) -> MessageLine:
    at: datetime | None
    if m.state == MessageState.PLANNED:
        detail, at = "", m.not_before  # its held reason is listed under "held by"
    elif m.state in (MessageState.SENT,):
        detail, at = " ".join(str(x) for x in (m.smtp_code, m.smtp_status) if x), m.sent_at
    else:
        detail, at = m.last_error or m.held_reason or "", m.sent_at or m.updated_at
    return MessageLine(m.id, m.step_id, m.state, at, m.subject, detail)


def _version_number(session: Session, version_id: int) -> int:
    """The number users see (`v2`), not the row id."""
    row = session.get(SequenceVersion, version_id)
    return row.version if row is not None else version_id


def _holidays(per_prospect: bool, policy: SendPolicy, *, own: bool) -> str:
    """ "DE-BY (the prospect's own)", "GB (the sequence's)" or "none …"."""
    region = policy.calendar.region if policy.skip_holidays else None
    if per_prospect and own:
        return f"{region or 'none'} (the prospect's own country and region, holidays: prospect)"
    if per_prospect:
        where = region or "none"
        return f"{where} (holidays: prospect, but the prospect's country is unknown: the fallback)"
    return (
        f"{region} (the sequence's)" if region else "none (the sequence skips no public holidays)"
    )


def _sender(session: Session, e: Enrollment, mailbox: Mailbox | None) -> str | None:
    """ "anna (the mailbox of their owner anna)": the choice the enrollment recorded."""
    if mailbox is None:
        return None
    enrolled = session.scalars(
        select(Event.data).where(Event.enrollment_id == e.id, Event.type == str(EventType.ENROLLED))
    ).first()
    why = enrolled.get("why") if isinstance(enrolled, dict) else None
    return f"{mailbox.name} ({why})" if why else mailbox.name

"""Apply what an inbound message means: events, stops, pauses, suppressions, tasks, score.

`process` runs inside ingest's transaction. Every effect it has is written to an undo log
(`InboundMessage.data["applied"]`) so that a human reclassification can take it back
(engine.inbound.reclassify).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core import rules, scoring
from engine.core.classification import (
    BOUNCE_CLASSES,
    Classification,
    InboundClass,
    ReplyIntent,
)
from engine.core.events import EventType
from engine.core.rules import Action, ActionKind
from engine.core.states import (
    LIVE_ENROLLMENT_STATES,
    EnrollmentState,
    MessageState,
    TaskState,
    advance_enrollment,
    advance_message,
    advance_task,
)
from engine.errors import KadenzError
from engine.inbound.classifier import match as tokens
from engine.inbound.matching import Match, live_enrollments
from engine.people import pause_timing, scores, suppression
from engine.sequence_language.render import Renderer, prospect_context
from engine.store import event_log as events
from engine.store.models import (
    Account,
    Enrollment,
    InboundMessage,
    Prospect,
    Sequence,
    SequenceVersion,
    Task,
)
from engine.workspace import sequences

_OPT_OUT_REASONS = frozenset({"unsubscribe", "complaint"})
_BOUNCE_WORD = {
    InboundClass.HARD_BOUNCE: "hard",
    InboundClass.SOFT_BOUNCE: "soft",
    InboundClass.BLOCKED: "blocked",
}


@dataclass
class Applied:
    notes: list[str] = field(default_factory=list)  # one line per effect, for people
    undo: list[dict[str, Any]] = field(default_factory=list)  # for reclassify
    errors: list[str] = field(default_factory=list)  # actions that failed (rolled back alone)


@dataclass
class _Ctx:
    session: Session
    now: datetime
    row: InboundMessage
    c: Classification
    m: Match
    out: Applied

    @property
    def tag(self) -> str:
        return f"inbound #{self.row.id}"


def process(
    session: Session, now: datetime, row: InboundMessage, c: Classification, m: Match
) -> Applied:
    """Record the events of this message and apply the actions of every concerned sequence."""
    ctx = _Ctx(session, now, row, c, m, Applied())
    targets: list[Enrollment | None] = list(m.enrollments) or [None]
    repeat = _repeated_opt_out(ctx)
    if repeat:
        # A second "unsubscribe" from an address already opted out changes nothing: no
        # second opt-out or reply is counted, no score moves; stops below are idempotent.
        ctx.out.notes.append(f"{repeat} already unsubscribed: nothing changed")
    for enrollment in targets:
        _class_events(ctx, enrollment, repeat=bool(repeat))
    score_points = 0
    for index, enrollment in enumerate(targets):
        spec = spec_of(session, enrollment)
        actions = rules.decide(
            c,
            stop_on=spec.get("stop_on"),
            rules=spec.get("rules") if isinstance(spec.get("rules"), list) else None,
            score=m.prospect.score if m.prospect else 0,
            soft_bounce_limit=_int(spec.get("soft_bounce_limit")),
        )
        for action in actions:
            if action.kind is ActionKind.SCORE:
                if index == 0:  # a prospect is scored once per message, by its first sequence
                    score_points += action.points
                continue
            apply_isolated(ctx, action, enrollment)
    if m.account is not None:
        _company_only(ctx)
    if m.prospect is not None and not repeat:
        _score(ctx, m.prospect, spec_of(session, targets[0]), score_points, targets[0])
    return ctx.out


def _repeated_opt_out(ctx: _Ctx) -> str | None:
    """The address, when this unsubscribe request comes from one that is already opted out."""
    c = ctx.c
    if c.kind is not InboundClass.HUMAN_REPLY or c.intent is not ReplyIntent.UNSUBSCRIBE_REQUEST:
        return None
    addresses = _suppress_targets(ctx)
    if not addresses:
        return None
    for address in addresses:
        row = suppression.find(ctx.session, address)
        if row is None or row.reason not in _OPT_OUT_REASONS:
            return None
    return ", ".join(addresses)


def unsubscribe_via(c: Classification) -> str:
    """`mail` for a message to our List-Unsubscribe address (its subject is the command)."""
    return "mail" if any(e.startswith('subject "') for e in c.evidence) else "reply"


def spec_of(session: Session, enrollment: Enrollment | None) -> dict[str, Any]:
    if enrollment is None:
        return {}
    version = session.get(SequenceVersion, enrollment.version_id)
    return dict(version.spec) if version is not None and isinstance(version.spec, dict) else {}


# --- events ----------------------------------------------------------------------------


def _event(ctx: _Ctx, type: EventType, enrollment: Enrollment | None, **data: Any) -> None:
    message = ctx.m.outbound if ctx.m.outbound is not None else None
    dims: dict[str, Any] = {"inbound_id": ctx.row.id}
    if message is None and enrollment is None:
        dims["prospect_id"] = ctx.m.prospect.id if ctx.m.prospect else None
        dims["mailbox_id"] = ctx.row.mailbox_id
    if message is not None and enrollment is not None and message.enrollment_id != enrollment.id:
        message = None
    events.record(
        ctx.session,
        type,
        ctx.now,
        enrollment=enrollment if message is None else None,
        message=message,
        data={k: v for k, v in data.items() if v is not None},
        **dims,
    )


def _class_events(ctx: _Ctx, enrollment: Enrollment | None, *, repeat: bool = False) -> None:
    c = ctx.c
    _event(
        ctx,
        EventType.INBOUND_RECEIVED,
        enrollment,
        **{"class": str(c.kind), "intent": _s(c.intent), "matched_by": ctx.m.matched_by},
    )
    if c.kind is InboundClass.HUMAN_REPLY:
        if repeat:
            return
        _event(ctx, EventType.REPLY_RECEIVED, enrollment, intent=str(c.intent or "neutral"))
        if c.intent is ReplyIntent.UNSUBSCRIBE_REQUEST:
            evidence = next(
                (e for e in c.evidence if e.startswith(("phrase", "subject", "command"))), None
            )
            _event(
                ctx, EventType.UNSUBSCRIBED, enrollment, via=unsubscribe_via(c), evidence=evidence
            )
    elif c.kind is InboundClass.AUTO_REPLY:
        _event(
            ctx,
            EventType.AUTO_REPLY_RECEIVED,
            enrollment,
            kind=_s(c.auto_reply_kind),
            return_date=c.return_date.isoformat() if c.return_date else None,
        )
    elif c.kind in BOUNCE_CLASSES:
        _event(
            ctx,
            EventType.BOUNCE_RECEIVED,
            enrollment,
            kind=_BOUNCE_WORD[c.kind],
            status=c.status,
            diagnostic=(c.diagnostic or "")[:300] or None,
        )
    elif c.kind is InboundClass.COMPLAINT:
        _event(ctx, EventType.COMPLAINT_RECEIVED, enrollment)


# --- actions ---------------------------------------------------------------------------


def apply_isolated(ctx: _Ctx, action: Action, enrollment: Enrollment | None) -> None:
    """One action in its own savepoint: a failing move_to never cancels the reply's stop."""
    notes, undo = len(ctx.out.notes), len(ctx.out.undo)
    try:
        with ctx.session.begin_nested():
            apply(ctx, action, enrollment)
    except Exception as exc:
        del ctx.out.notes[notes:], ctx.out.undo[undo:]
        ctx.out.notes.append(f"{action.kind} failed: {type(exc).__name__}: {exc}"[:300])
        ctx.out.errors.append(f"{action.kind} ({action.source}): {type(exc).__name__}: {exc}")


def apply(ctx: _Ctx, action: Action, enrollment: Enrollment | None) -> None:
    kind = action.kind
    if kind is ActionKind.MARK_BOUNCED:
        _mark_bounced(ctx)
    elif kind is ActionKind.SUPPRESS:
        for address in _suppress_targets(ctx):
            _suppress(ctx, address, action.reason)
    elif kind is ActionKind.STOP:
        if enrollment is not None:
            stop(ctx, enrollment, action.reason)
    elif kind is ActionKind.STOP_ADDRESS:
        for other in _address_enrollments(ctx, enrollment):
            stop(ctx, other, action.reason)
    elif kind is ActionKind.STOP_COMPANY:
        if enrollment is not None and ctx.c.kind is InboundClass.HUMAN_REPLY:
            for other in _colleague_enrollments(ctx, enrollment):
                stop(ctx, other, f"company reply from {ctx.c.from_address}")
    elif kind is ActionKind.COUNT_SOFT_BOUNCE:
        _count_soft_bounce(ctx, action, enrollment)
    elif kind is ActionKind.MAILBOX_HEALTH:
        mailbox = ctx.m.outbound.mailbox_id if ctx.m.outbound else ctx.row.mailbox_id
        ctx.out.notes.append(f"counted against mailbox #{mailbox}" if mailbox else "blocked")
    elif kind is ActionKind.PAUSE:
        if enrollment is not None:
            _pause(ctx, enrollment, action)
    elif kind in (ActionKind.TASK, ActionKind.NOTIFY):
        _task(ctx, action, enrollment)
    elif kind is ActionKind.MOVE_TO and enrollment is not None:
        _move(ctx, enrollment, action)
    # RECORD and SCORE (handled by process) need nothing here


def _mark_bounced(ctx: _Ctx) -> None:
    message = ctx.m.outbound
    if message is None or message.state not in (MessageState.SENT, MessageState.AMBIGUOUS):
        return
    before = message.state
    message.state = str(advance_message(MessageState(before), MessageState.BOUNCED))
    message.smtp_status = (ctx.c.status or "")[:16] or message.smtp_status
    message.updated_at = ctx.now
    events.record(
        ctx.session,
        EventType.MESSAGE_BOUNCED,
        ctx.now,
        message=message,
        inbound_id=ctx.row.id,
        data={"kind": "hard", "status": ctx.c.status, "source": "inbound"},
    )
    ctx.out.undo.append({"op": "message_state", "outbound_id": message.id, "from": before})
    ctx.out.notes.append(f"message #{message.id} bounced")


def _suppress_targets(ctx: _Ctx) -> list[str]:
    c, m = ctx.c, ctx.m
    found: list[str] = []
    if c.kind in BOUNCE_CLASSES:
        found = [k for k in (tokens.address_key(r) for r in c.recipients) if k]
        if not found and m.outbound is not None:
            found = [m.outbound.to_address]
    if not found and m.prospect is not None and m.prospect.email:
        found = [m.prospect.email]
    if not found and m.outbound is not None:
        found = [m.outbound.to_address]
    # The sender asked: their own address always goes, also when the thread we matched
    # was sent to someone else (a forwarded email answered by a colleague).
    asked = c.intent is ReplyIntent.UNSUBSCRIBE_REQUEST
    if c.kind is InboundClass.HUMAN_REPLY and c.from_address and (asked or not found):
        key = tokens.address_key(c.from_address)
        found = [*found, key] if key else found
    return list(dict.fromkeys(tokens.address_key(a) or a for a in found))


def _suppress(ctx: _Ctx, address: str, reason: str) -> None:
    if suppression.find(ctx.session, address) is not None:
        ctx.out.notes.append(f"{address} already suppressed")
        return
    row = suppression.add(
        ctx.session, address, reason=reason, at=ctx.now, source=f"inbound:{ctx.row.id}"
    )
    ctx.out.undo.append({"op": "suppress", "suppression_id": row.id})
    ctx.out.notes.append(f"suppressed {address} ({reason})")


def stop(ctx: _Ctx, enrollment: Enrollment, reason: str) -> None:
    if enrollment.state not in LIVE_ENROLLMENT_STATES:
        return
    before = enrollment.state
    enrollment.state = str(advance_enrollment(EnrollmentState(before), EnrollmentState.STOPPED))
    enrollment.state_reason = f"{reason} ({ctx.tag})"
    ctx.out.undo.append(
        {
            "op": "stop",
            "enrollment_id": enrollment.id,
            "from": before,
            "next_run_at": _iso(enrollment.next_run_at),
            "paused_until": _iso(enrollment.paused_until),
            "state_reason": enrollment.state_reason,
        }
    )
    enrollment.next_run_at = None
    enrollment.paused_until = None
    enrollment.finished_at = ctx.now
    enrollment.updated_at = ctx.now
    events.record(
        ctx.session,
        EventType.STOPPED,
        ctx.now,
        enrollment=enrollment,
        inbound_id=ctx.row.id,
        data={"reason": reason},
    )
    ctx.out.notes.append(f"stopped enrollment #{enrollment.id} ({reason})")
    # The sequence's own call/task reminders end with it, so no SDR calls someone who just
    # answered; tasks a rule or a person made (no step) stay. Kept in the undo entry (the
    # `stop` entry appended above), so a reclassification re-opens them as new tasks.
    # Planned messages stay planned: the sender cancels them, and an undo finds them intact.
    step_tasks = ctx.session.scalars(
        select(Task).where(
            Task.enrollment_id == enrollment.id,
            Task.state == TaskState.OPEN,
            Task.step_id.is_not(None),
        )
    ).all()
    for task in step_tasks:
        task.state = str(advance_task(TaskState.OPEN, TaskState.CANCELLED))
        task.completed_at = ctx.now
        ctx.out.notes.append(f"cancelled task #{task.id} ({task.title})")
    ctx.out.undo[-1]["cancelled_tasks"] = [task.id for task in step_tasks]


def _address_enrollments(ctx: _Ctx, enrollment: Enrollment | None) -> list[Enrollment]:
    found = [enrollment] if enrollment is not None else []
    if ctx.m.prospect is not None:
        found += live_enrollments(ctx.session, ctx.m.prospect.id)
    return list({e.id: e for e in found}.values())


def _account_of(ctx: _Ctx, prospect: Prospect | None) -> Account | None:
    domain = tokens.company_domain(ctx.c.from_address)
    if domain is None:  # a reply from gmail.com never stands for a company
        return None
    if prospect is not None and prospect.account_id is not None:
        account = ctx.session.get(Account, prospect.account_id)
        if account is not None and account.domain == domain:
            return account
    return ctx.session.scalars(select(Account).where(Account.domain == domain)).first()


def _colleague_enrollments(ctx: _Ctx, enrollment: Enrollment) -> list[Enrollment]:
    prospect = ctx.session.get(Prospect, enrollment.prospect_id)
    account = _account_of(ctx, prospect)
    if account is None:
        return []
    stmt = (
        select(Enrollment)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(
            Prospect.account_id == account.id,
            Enrollment.sequence_id == enrollment.sequence_id,
            Enrollment.id != enrollment.id,
            Enrollment.state.in_([str(s) for s in LIVE_ENROLLMENT_STATES]),
        )
        .order_by(Enrollment.id)
    )
    return list(ctx.session.scalars(stmt))


def _company_only(ctx: _Ctx) -> None:
    """A colleague (not a prospect) replied from the account's domain."""
    account = ctx.m.account
    if account is None or ctx.c.kind is not InboundClass.HUMAN_REPLY:
        return
    if ctx.c.intent is ReplyIntent.UNSUBSCRIBE_REQUEST and ctx.c.from_address:
        key = tokens.address_key(ctx.c.from_address)
        if key:
            _suppress(ctx, key, "unsubscribe")
    stmt = (
        select(Enrollment)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(
            Prospect.account_id == account.id,
            Enrollment.state.in_([str(s) for s in LIVE_ENROLLMENT_STATES]),
        )
        .order_by(Enrollment.id)
    )
    for enrollment in list(ctx.session.scalars(stmt)):
        stop_on = spec_of(ctx.session, enrollment).get("stop_on") or rules.DEFAULT_STOP_ON
        if "company_reply" in stop_on:
            stop(ctx, enrollment, f"company reply from {ctx.c.from_address}")


def _count_soft_bounce(ctx: _Ctx, action: Action, enrollment: Enrollment | None) -> None:
    prospect = ctx.m.prospect
    if prospect is None:
        return
    count = (
        ctx.session.scalar(
            select(func.count(InboundMessage.id)).where(
                InboundMessage.prospect_id == prospect.id,
                InboundMessage.classification == str(InboundClass.SOFT_BOUNCE),
            )
        )
        or 0
    )
    ctx.out.notes.append(f"soft bounce {count} for {prospect.email or prospect.id}")
    if action.limit and count >= action.limit:
        for target in _address_enrollments(ctx, enrollment):
            stop(ctx, target, f"{count} soft bounces")


def _pause(ctx: _Ctx, enrollment: Enrollment, action: Action) -> None:
    if enrollment.state not in (
        EnrollmentState.ACTIVE,
        EnrollmentState.WAITING,
        EnrollmentState.PAUSED,
    ):
        return
    until = None
    if action.until_return_date and ctx.c.return_date is not None:
        spec = spec_of(ctx.session, enrollment)
        until = pause_timing.resume_after_return(
            ctx.c.return_date,
            pause_timing.zone_for(ctx.session, enrollment, spec),
            pause_timing.calendar_for(ctx.session, enrollment, spec),
        )
        if until <= ctx.now:
            ctx.out.notes.append(f"return date {ctx.c.return_date} has passed: not paused")
            return
    if until is None:
        until = pause_timing.add_duration(ctx.now, action.duration or rules.DEFAULT_OOO_PAUSE)
    before = enrollment.state
    ctx.out.undo.append(
        {
            "op": "pause",
            "enrollment_id": enrollment.id,
            "from": before,
            "next_run_at": _iso(enrollment.next_run_at),
            "paused_until": _iso(enrollment.paused_until),
        }
    )
    if before != EnrollmentState.PAUSED:
        enrollment.state = str(advance_enrollment(EnrollmentState(before), EnrollmentState.PAUSED))
    enrollment.paused_until = until
    enrollment.state_reason = f"{action.reason} until {until.isoformat()} ({ctx.tag})"
    enrollment.updated_at = ctx.now
    events.record(
        ctx.session,
        EventType.PAUSED,
        ctx.now,
        enrollment=enrollment,
        inbound_id=ctx.row.id,
        data={"reason": action.reason, "until": until.isoformat()},
    )
    ctx.out.notes.append(f"paused enrollment #{enrollment.id} until {until.isoformat()}")


_VAR = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_TITLES = Renderer({})  # inline texts only: the sandboxed Jinja every template uses


def render_title(template: str, prospect: Prospect | None, c: Classification) -> str:
    """A rule's task title, rendered like a step's title (sandboxed Jinja, filters allowed).

    Variables: the prospect's fields (as in emails), `referral` and `subject` of the reply.
    A title that cannot render (a name the prospect lacks, a syntax error) still makes its
    task: the plain `{{ name }}`s are filled as best we can, so the SDR is never left out.
    """
    fields = sequences.prospect_fields(prospect) if prospect else {"email": c.from_address}
    context = prospect_context(fields, {})
    # spec.variables.REPLY_VARIABLES: what `sequence validate` accepts in a rule's title
    context["referral"] = c.referral or "(see the reply)"
    context["subject"] = c.subject or ""
    try:
        text = _TITLES.render_text(template, context)
    except KadenzError:
        fallback = {
            **context,
            "first_name": context.get("first_name") or context.get("email") or "them",
        }
        text = _VAR.sub(lambda mt: str(fallback.get(mt.group(1)) or ""), template)
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())[:500]


def _task(ctx: _Ctx, action: Action, enrollment: Enrollment | None) -> None:
    prospect = ctx.m.prospect
    owner = (enrollment.owner if enrollment else None) or (prospect.owner if prospect else None)
    if action.kind is ActionKind.NOTIFY:
        # `notify: owner` (the prospect's owner) or a person; an FYI task in their queue.
        who = prospect.email if prospect and prospect.email else ctx.c.from_address
        title = f"FYI: {who} sent a {ctx.c.kind}" + (f" ({ctx.c.intent})" if ctx.c.intent else "")
        if action.target and action.target != "owner":
            owner = action.target
    else:
        title = render_title(action.text or "", prospect, ctx.c)
    task = Task(
        kind="task",
        prospect_id=prospect.id if prospect else None,
        enrollment_id=enrollment.id if enrollment else None,
        step_id=None,
        owner=owner,
        title=title,
        notes=(ctx.c.reply_text or "")[:2000] or None,
        state=str(TaskState.OPEN),
        blocking=False,
        due_at=ctx.now,
        created_at=ctx.now,
    )
    ctx.session.add(task)
    ctx.session.flush()
    events.record(
        ctx.session,
        EventType.TASK_CREATED,
        ctx.now,
        enrollment=enrollment,
        task_id=task.id,
        inbound_id=ctx.row.id,
        owner=owner,
        data={"title": title, "source": action.source},
    )
    ctx.out.undo.append({"op": "task", "task_id": task.id})
    ctx.out.notes.append(f"task #{task.id} for {owner or 'nobody'}: {title}")


def _move(ctx: _Ctx, enrollment: Enrollment, action: Action) -> None:
    sequence = ctx.session.scalars(select(Sequence).where(Sequence.key == action.target)).first()
    if sequence is None or sequence.current_version_id is None:
        ctx.out.notes.append(f"move_to {action.target}: no such sequence (fix the rule)")
        return
    before = _left_before(ctx, enrollment.prospect_id, sequence.id)
    if before is not None:
        # A move back into a sequence the person was in (itself, or A → B → A) would email
        # them from the first step again right after they answered: stop, never re-enroll.
        stop(ctx, enrollment, f"not moved to {sequence.key}: was in it before (#{before.id})")
        ctx.out.notes.append(
            f"move_to {sequence.key}: not re-enrolled, the prospect was in it before "
            f"(enrollment #{before.id}); fix the rule's cycle"
        )
        return
    stop(ctx, enrollment, f"moved to {sequence.key}")
    prospect = ctx.session.get(Prospect, enrollment.prospect_id)
    refused = _enroll(ctx, sequence, enrollment, prospect)
    new = ctx.session.scalars(
        select(Enrollment).where(
            Enrollment.prospect_id == enrollment.prospect_id,
            Enrollment.sequence_id == sequence.id,
            Enrollment.state.in_([str(s) for s in LIVE_ENROLLMENT_STATES]),
            Enrollment.created_at == ctx.now,
        )
    ).first()
    if new is None:
        ctx.out.notes.append(f"not enrolled in {sequence.key}: {refused or 'already there'}")
        return
    ctx.out.undo.append({"op": "enroll", "enrollment_id": new.id})
    ctx.out.notes.append(f"enrolled in {sequence.key} (enrollment #{new.id})")


def _left_before(ctx: _Ctx, prospect_id: int, sequence_id: int) -> Enrollment | None:
    """An enrollment of the prospect in this sequence, other than one a reclassify undid."""
    for row in ctx.session.scalars(
        select(Enrollment).where(
            Enrollment.prospect_id == prospect_id, Enrollment.sequence_id == sequence_id
        )
    ):
        if not (row.state_reason or "").endswith(" reclassified"):
            return row
    return None


def _enroll(
    ctx: _Ctx, sequence: Sequence, enrollment: Enrollment, prospect: Prospect | None
) -> str | None:
    """Enroll through the enrollment service (suppression, variables, mailbox pool checks)."""
    from engine.people import enrollment as enrolling

    if prospect is None or not prospect.email:
        return "the prospect's address was erased"
    result = enrolling.enroll(
        ctx.session,
        sequence.key,
        [prospect.email],
        at=ctx.now,
        owner=enrollment.owner,
        enrolled_by=f"rule:{ctx.tag}",
    )
    return "; ".join(str(r) for r in result.refused) or None


# --- scoring ---------------------------------------------------------------------------


def _score(
    ctx: _Ctx,
    prospect: Prospect,
    spec: dict[str, Any],
    rule_points: int,
    enrollment: Enrollment | None,
) -> None:
    config = scoring.config_from_spec(spec.get("scoring"))
    key = scoring.event_key(ctx.c)
    # A rule's `score:` replaces the points table for this message (never both).
    delta = rule_points or scoring.points_for(config, key)
    if not delta:
        return
    reason = f"{key or ctx.c.kind} ({ctx.tag})"
    result = scores.change_score(
        ctx.session,
        ctx.now,
        prospect,
        delta,
        reason=reason,
        config=config,
        enrollment=enrollment,
        inbound_id=ctx.row.id,
    )
    ctx.out.undo.append({"op": "score", "prospect_id": prospect.id, "delta": delta})
    ctx.out.notes.append(f"score {delta:+d} → {prospect.score}")
    for threshold in result.crossed:
        for action in rules.then_actions(threshold.then, f"score ≥ {threshold.at_least}"):
            owner_has_a_task = any(u.get("op") == "task" for u in ctx.out.undo)
            if action.kind is ActionKind.NOTIFY and action.target == "owner" and owner_has_a_task:
                ctx.out.notes.append(f"score ≥ {threshold.at_least}: owner already has a task")
                continue  # this message already put a task in the owner's queue
            if action.kind is not ActionKind.SCORE:
                apply_isolated(ctx, action, enrollment)


# --- small helpers ---------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _s(value: object | None) -> str | None:
    return str(value) if value is not None else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None

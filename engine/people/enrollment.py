"""Enrolling prospects into a sequence's current version, and pausing/resuming/stopping them.

Enrolling refuses per prospect (with a reason and a fix) and goes on with the rest. A mailbox
is chosen from the sequence's pool: the one the prospect already had (sticky), else the one
with the fewest live enrollments (balanced).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import (
    ENROLLMENT_TRANSITIONS,
    LIVE_ENROLLMENT_STATES,
    EnrollmentState,
    advance_enrollment,
)
from engine.errors import Conflict, InvalidInput, NotFound
from engine.people import lifecycle, prospects, suppression, users
from engine.store import event_log as events
from engine.store.models import (
    Enrollment,
    Mailbox,
    Prospect,
    SequenceVersion,
)
from engine.store.models import (
    Sequence as SequenceRow,
)
from engine.workspace import policy as workspace_policy

# Port: which template variables a prospect lacks (no default) for this version.
VariableChecker = Callable[[SequenceVersion, Prospect], list[str]]
_LIVE = [str(s) for s in LIVE_ENROLLMENT_STATES]


def renderer_variable_check(version: SequenceVersion, prospect: Prospect) -> list[str]:
    """Default checker: variables any step (every email variant, call/task title and notes)
    reads without a default that this prospect lacks. Sender variables come from the
    mailbox, not the prospect, so a placeholder sender stands in for them."""
    from engine.sequence_language.render import Renderer, prospect_context
    from engine.workspace.sequences import prospect_fields, sender_fields, version_spec

    spec = version_spec(version)
    # The sender's booking link is checked against the chosen mailbox (`_sender_missing`).
    sender = {**sender_fields(None), "booking_link": "https://example.com/book"}
    context = prospect_context(prospect_fields(prospect), sender)
    return _missing_in(spec.steps, Renderer(version.templates or {}), context)


def _missing_in(steps: Iterable[Any], renderer: Any, context: dict[str, Any]) -> list[str]:
    from engine.sequence_language.model import EmailStep, WaitStep

    missing: list[str] = []
    for step in steps:
        if isinstance(step, WaitStep):
            continue
        if isinstance(step, EmailStep):
            names = renderer.missing_variables(step, context)
        else:
            names = renderer.missing_variables(step.title, context)
            if step.notes:
                names += renderer.missing_variables(step.notes, context)
        missing += [n for n in names if n not in missing]
    return missing


def _fix_for(missing: list[str], mailbox: Mailbox) -> str:
    fixes = []
    if any(not n.startswith("sender.") for n in missing):
        fixes.append("add the column(s) to your CSV and import again (then resume)")
    if "sender.booking_link" in missing:
        fixes.append(
            f"give {mailbox.owner} a booking link: kadenz user update {mailbox.owner} "
            "--booking-link URL (then resume)"
            if mailbox.owner
            else f"give mailbox {mailbox.name} an owner with a booking link: kadenz mailbox "
            f"update {mailbox.name} --owner USER"
        )
    return "; ".join(fixes) + ", or give the template a default"


def _sender_missing(
    session: Session, version: SequenceVersion, prospect: Prospect, mailbox: Mailbox
) -> list[str]:
    """`sender.*` variables the steps read without a default that `mailbox` (and the user
    who owns it) cannot give, e.g. `sender.booking_link` of an owner without a link."""
    from engine.sequence_language.render import Renderer, prospect_context
    from engine.workspace.sequences import (
        mailbox_owner,
        prospect_fields,
        sender_fields,
        version_spec,
    )

    sender = sender_fields(mailbox, mailbox_owner(session, mailbox))
    context = prospect_context(prospect_fields(prospect), sender)
    renderer = Renderer(version.templates or {})
    names = _missing_in(version_spec(version).steps, renderer, context)
    return [n for n in names if n.startswith("sender.")]


@dataclass(frozen=True, slots=True)
class Refusal:
    email: str
    reason: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.email}: {self.reason}" + (f" (fix: {self.fix})" if self.fix else "")


@dataclass(slots=True)
class EnrollResult:
    sequence: str
    version: int
    enrolled: list[tuple[str, str]] = field(default_factory=list)  # (email, mailbox name)
    refused: list[Refusal] = field(default_factory=list)
    # Enrolled, but a step will pause them (DESIGN invariant 5): said now, not discovered later.
    warnings: list[Refusal] = field(default_factory=list)


def current_version(session: Session, key: str) -> tuple[SequenceRow, SequenceVersion]:
    sequence = session.scalars(select(SequenceRow).where(SequenceRow.key == key)).first()
    if sequence is None:
        raise NotFound(
            f"no sequence {key!r} (push it first: kadenz sequence push sequences/{key}.yaml)"
        )
    if sequence.archived:
        raise Conflict(f"sequence {key!r} is archived; enroll into another sequence")
    if sequence.paused:
        raise Conflict(
            f"sequence {key!r} is paused ({sequence.paused_reason}); resume it first: "
            f"kadenz sequence resume {key}"
        )
    version = (
        session.get(SequenceVersion, sequence.current_version_id)
        if sequence.current_version_id is not None
        else None
    )
    if version is None:
        raise NotFound(f"sequence {key!r} has no pushed version (run: kadenz sequence push …)")
    return sequence, version


def _owner_handle(session: Session, text: str) -> str:
    """The handle of the user `text` names (handle, email, full name or alias); kept as
    typed while the workspace has no users at all."""
    directory = users.Directory.load(session)
    if not directory:
        return text
    found = directory.match(text)
    if found is None:
        raise InvalidInput(f"--owner {text!r} is not a user (see: kadenz user list)")
    return found.name


def _first_step_id(spec: dict[str, Any]) -> str | None:
    """The id of step 0 (stored specs give every step an id, waits `wait-<n>`)."""
    steps = spec.get("steps") or []
    first = steps[0] if steps else None
    return str(first["id"]) if isinstance(first, dict) and first.get("id") else None


def _owned(session: Session) -> list[Mailbox]:
    """Unpaused mailboxes that belong to a user (`mailboxes: owner` picks among them)."""
    stmt = select(Mailbox).where(Mailbox.paused.is_(False), Mailbox.owner.is_not(None))
    return list(session.scalars(stmt.order_by(Mailbox.name)))


def _choose(
    session: Session, prospect: Prospect, candidates: list[Mailbox], load: dict[int, int]
) -> tuple[Mailbox, str]:
    """The sender for `prospect` among `candidates`, and why (kept on the enrolled event).

    1. the mailbox that emailed this person before (one person, one sender);
    2. the mailbox of a colleague at the same company (one company, one sender);
    3. the least busy one.
    """
    before = _sticky(session, prospect.id, candidates)
    if before is not None:
        return before, "the mailbox that emailed them before"
    if prospect.account_id is not None:
        by_id = {m.id: m for m in candidates}
        colleague = session.scalars(
            select(Enrollment.mailbox_id)
            .join(Prospect, Prospect.id == Enrollment.prospect_id)
            .where(
                Prospect.account_id == prospect.account_id,
                Prospect.id != prospect.id,
                Enrollment.mailbox_id.in_(list(by_id)),
            )
            .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())
            .limit(1)
        ).first()
        if colleague is not None:
            return by_id[colleague], "the sender of a colleague at the same company"
    chosen = min(candidates, key=lambda m: (load.get(m.id, 0), m.name))
    if chosen.owner and chosen.owner == prospect.owner:
        return chosen, f"the mailbox of their owner {chosen.owner}"
    return chosen, "the least busy mailbox of the pool"


def _pool(session: Session, spec: dict[str, Any], forced: str | None) -> list[Mailbox]:
    """The mailboxes this sequence may send from: its `mailboxes` list, else all; unpaused."""
    stmt = select(Mailbox).where(Mailbox.paused.is_(False)).order_by(Mailbox.name)
    if forced:
        mailbox = session.scalars(select(Mailbox).where(Mailbox.name == forced)).first()
        if mailbox is None:
            raise NotFound(f"--mailbox: no mailbox {forced!r} (see: kadenz mailbox list)")
        if mailbox.paused:
            raise Conflict(
                f"--mailbox: {forced!r} is paused ({mailbox.paused_reason}); "
                f"resume it with: kadenz mailbox resume {forced}"
            )
        return [mailbox]
    names = [str(n) for n in spec.get("mailboxes") or []]
    if names:
        stmt = stmt.where(Mailbox.name.in_(names))
    pool = list(session.scalars(stmt))
    if not pool:
        what = f"none of {', '.join(names)} exists unpaused" if names else "there is none"
        raise Conflict(
            f"no mailbox to send from: {what} "
            "(add one: kadenz mailbox add NAME --address ADDR --smtp smtp+starttls://host:587)"
        )
    return pool


def enroll(
    session: Session,
    key: str,
    emails: Iterable[str],
    *,
    at: datetime,
    owner: str | None = None,
    mailbox: str | None = None,
    enrolled_by: str | None = None,
    acting_for: str | None = None,
    check_variables: VariableChecker = renderer_variable_check,
) -> EnrollResult:
    """Enroll each address into the current version of sequence `key`; refuse per prospect.

    `acting_for` is the SDR a caller acts as (an `sdr` API token): another SDR's prospect is
    refused, so nobody enrolls (and emails) a person someone else is working."""
    sequence, version = current_version(session, key)
    if owner:  # a user in any spelling, so reports and queues have one name for them
        handle = _owner_handle(session, owner)
        enrolled_by = handle if enrolled_by == owner else enrolled_by
        owner = handle
    spec = version.spec or {}
    step_id = _first_step_id(spec)
    if step_id is None:
        raise InvalidInput(f"sequence {key!r} version {version.version} has no steps")
    pool = _pool(session, spec, mailbox)
    owned = _owned(session) if spec.get("sender") == "owner" else []
    load = _live_load(session, [m.id for m in [*pool, *owned]])
    rules = workspace_policy.current(session)
    concurrent = rules.concurrent_sequences_per_person if rules is not None else None
    result = EnrollResult(sequence=key, version=version.version)
    sender_gaps: dict[int, list[str]] = {}  # mailbox id → sender.* the templates miss

    def refuse(email: str, reason: str, fix: str, prospect: Prospect | None = None) -> None:
        result.refused.append(Refusal(email, reason, fix))
        events.record(
            session,
            EventType.ENROLL_REFUSED,
            at,
            prospect_id=prospect.id if prospect else None,
            sequence_id=sequence.id,
            version_id=version.id,
            owner=owner,
            data={"reason": reason},
        )

    for raw in emails:
        email = raw.strip()
        prospect = prospects.find(session, email)
        if prospect is None:
            if prospects.is_erased(session, email):
                refuse(email, "this person's data was erased (GDPR)", "do not contact them")
            else:
                refuse(
                    email,
                    "unknown prospect",
                    "import it first: kadenz prospects import FILE.csv",
                )
            continue
        if acting_for is not None and prospect.owner not in (None, acting_for):
            refuse(
                email,
                "another SDR's prospect",
                "ask its owner, or a manager to reassign it, before enrolling",
                prospect,
            )
            continue
        blocked = suppression.find(session, prospect.email_key)
        if blocked is not None:
            target = blocked.value if blocked.kind == "email" else f"@{blocked.value}"
            refuse(
                email,
                f"suppressed ({target or 'hashed'}, reason {blocked.reason}, since "
                f"{blocked.created_at:%Y-%m-%d})",
                "do not contact; lift it only if it was a mistake: kadenz suppress remove",
                prospect,
            )
            continue
        live = session.scalars(
            select(Enrollment).where(
                Enrollment.prospect_id == prospect.id,
                Enrollment.sequence_id == sequence.id,
                Enrollment.state.in_(_LIVE),
            )
        ).first()
        if live is not None:
            refuse(
                email,
                f"already {live.state} in {key} (since {live.created_at:%Y-%m-%d})",
                f"stop it first if you mean to restart: kadenz enrollment stop {email} "
                f"--sequence {key}",
                prospect,
            )
            continue
        if concurrent is not None:
            elsewhere = session.scalars(
                select(SequenceRow.key)
                .join(Enrollment, Enrollment.sequence_id == SequenceRow.id)
                .where(Enrollment.prospect_id == prospect.id, Enrollment.state.in_(_LIVE))
            ).all()
            if len(elsewhere) >= concurrent:
                refuse(
                    email,
                    f"already live in {len(elsewhere)} sequence(s) "
                    f"({', '.join(sorted(elsewhere))}); the workspace policy allows "
                    f"{concurrent} at once (concurrent_sequences_per_person)",
                    "stop one first (kadenz enrollment stop), or raise the limit in the policy",
                    prospect,
                )
                continue
        candidates = pool
        if spec.get("sender") == "owner" and not mailbox:
            candidates = [m for m in owned if m.owner and m.owner == prospect.owner]
            if not candidates:
                refuse(
                    email,
                    f"the sequence sends from the owner's mailbox and the owner "
                    f"{prospect.owner or '(none)'} has no unpaused mailbox",
                    "give them one: kadenz mailbox update NAME --owner USER, or set the "
                    "prospect's owner (import with an owner column)",
                    prospect,
                )
                continue
        chosen, why = _choose(session, prospect, candidates, load)
        missing = check_variables(version, prospect)
        if chosen.id not in sender_gaps:
            sender_gaps[chosen.id] = _sender_missing(session, version, prospect, chosen)
        missing += [n for n in sender_gaps[chosen.id] if n not in missing]
        if missing:
            # DESIGN invariant 5: the enrollment pauses at the step that needs the data, with
            # a clear reason and a task for the SDR (the tick does it), never "Hi ,".
            result.warnings.append(
                Refusal(
                    email,
                    f"missing template variable(s) without default: "
                    f"{', '.join(sorted(missing))}; the enrollment will pause at the step "
                    "that needs them, with a task for the owner",
                    _fix_for(missing, chosen),
                )
            )
        load[chosen.id] = load.get(chosen.id, 0) + 1
        row = Enrollment(
            prospect_id=prospect.id,
            sequence_id=sequence.id,
            version_id=version.id,
            mailbox_id=chosen.id,
            state=str(EnrollmentState.ACTIVE),
            step_index=0,
            step_id=step_id,
            next_run_at=at,
            step_started_at=at,
            variants={},
            owner=owner or prospect.owner,
            enrolled_by=enrolled_by,
            created_at=at,
            updated_at=at,
        )
        session.add(row)
        session.flush()
        events.record(
            session,
            EventType.ENROLLED,
            at,
            enrollment=row,
            data={"mailbox": chosen.name, "why": why},
        )
        result.enrolled.append((prospect.email or email, chosen.name))
    return result


def _live_load(session: Session, mailbox_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Enrollment.mailbox_id, func.count())
        .where(Enrollment.mailbox_id.in_(mailbox_ids), Enrollment.state.in_(_LIVE))
        .group_by(Enrollment.mailbox_id)
    )
    return {mailbox_id: count for mailbox_id, count in rows if mailbox_id is not None}


def _sticky(session: Session, prospect_id: int, pool: list[Mailbox]) -> Mailbox | None:
    """The pool mailbox this prospect was last enrolled with, in any sequence."""
    by_id = {m.id: m for m in pool}
    last = session.scalars(
        select(Enrollment.mailbox_id)
        .where(Enrollment.prospect_id == prospect_id, Enrollment.mailbox_id.in_(list(by_id)))
        .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())
        .limit(1)
    ).first()
    return by_id.get(last) if last is not None else None


# --- pause / resume / stop ----------------------------------------------------------------


def find_enrollment(session: Session, email: str, key: str) -> Enrollment:
    """The live (else the newest) enrollment of `email` in sequence `key`."""
    prospect = prospects.get(session, email)
    sequence = session.scalars(select(SequenceRow).where(SequenceRow.key == key)).first()
    if sequence is None:
        raise NotFound(f"no sequence {key!r} (see: kadenz sequence list)")
    rows = session.scalars(
        select(Enrollment)
        .where(Enrollment.prospect_id == prospect.id, Enrollment.sequence_id == sequence.id)
        .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())
    ).all()
    if not rows:
        raise NotFound(f"{email} is not enrolled in {key} (enroll: kadenz enroll {key} --email …)")
    return next((r for r in rows if r.state in _LIVE), rows[0])


def _move(enrollment: Enrollment, target: EnrollmentState, verb: str) -> None:
    current = EnrollmentState(enrollment.state)
    if target not in ENROLLMENT_TRANSITIONS[current]:
        raise Conflict(f"cannot {verb} an enrollment that is {current}")
    enrollment.state = str(advance_enrollment(current, target))


def pause(
    session: Session,
    email: str,
    key: str,
    *,
    at: datetime,
    reason: str | None = None,
    until: datetime | None = None,
) -> Enrollment:
    row = find_enrollment(session, email, key)
    if row.state == EnrollmentState.PAUSED:
        raise Conflict(f"{email} is already paused in {key} ({row.state_reason})")
    _move(row, EnrollmentState.PAUSED, "pause")
    row.state_reason = reason or "paused by a person"
    row.paused_until = until
    row.updated_at = at
    events.record(
        session,
        EventType.PAUSED,
        at,
        enrollment=row,
        data={"reason": row.state_reason, "until": until.isoformat() if until else None},
    )
    return row


def resume(session: Session, email: str, key: str, *, at: datetime) -> Enrollment:
    row = find_enrollment(session, email, key)
    if row.state != EnrollmentState.PAUSED:
        raise Conflict(f"{email} is {row.state} in {key}, not paused; nothing to resume")
    paused_sequence = session.get(SequenceRow, row.sequence_id)
    if paused_sequence is not None and paused_sequence.paused:
        raise Conflict(
            f"the whole sequence {key} is paused ({paused_sequence.paused_reason}); "
            f"resume it: kadenz sequence resume {key}"
        )
    _move(row, EnrollmentState.ACTIVE, "resume")
    row.state_reason = None
    row.paused_until = None
    # A step that fell due while paused runs at the next tick; a future wait keeps its time.
    if row.next_run_at is None or row.next_run_at < at:
        row.next_run_at = at
    row.updated_at = at
    events.record(session, EventType.RESUMED, at, enrollment=row)
    return row


def stop(
    session: Session, email: str, key: str, *, at: datetime, reason: str | None = None
) -> Enrollment:
    row = find_enrollment(session, email, key)
    if row.state not in _LIVE:
        raise Conflict(f"{email} is already {row.state} in {key}")
    lifecycle.stop(session, row, reason=reason or "stopped by a person", at=at)
    return row

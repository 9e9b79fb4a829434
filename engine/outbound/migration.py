"""Migrating live enrollments to another version of their sequence, by step id.

`plan` (the dry run) and `migrate` compute the same move for every live enrollment not yet on
the target version: where it is, where it goes (engine.sequence_language.step_map), and what
changes for it. Applying is atomic per enrollment (one savepoint: the enrollment, its planned
messages and the `enrollment.migrated` event move together) and safe to run twice (an
enrollment already on the target is left alone). A planned, unsent email of a changed step is
re-rendered from the new version, keeping its Message-ID and send time; one of a removed step
is cancelled. An email being sent right now makes that one enrollment wait for the next run.
Reference: docs/sequences.md, "Migrating live enrollments".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import LIVE_ENROLLMENT_STATES, MessageState, advance_message
from engine.errors import Conflict, NotFound
from engine.outbound.runtime import MissingVariable, Runtimes, sending_user
from engine.outbound.tick import choose_variant, sender_fix
from engine.sequence_language import step_map
from engine.sequence_language.model import EmailStep, SequenceSpec
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox, OutboundMessage, Prospect, SequenceVersion
from engine.workspace import sequences

log = logging.getLogger(__name__)
_LIVE = [str(s) for s in LIVE_ENROLLMENT_STATES]
CHUNK = 200  # enrollments per transaction (each in its own savepoint)


class AmbiguousMigration(Conflict):
    """The step-id mapping cannot be decided; nothing was changed."""


@dataclass
class Group:
    """Enrollments that make the same move (one line of the dry run)."""

    from_version: int
    from_step: str | None
    to_step: str | None  # None: past the last step (they finish)
    state: str
    changes: list[str]
    count: int = 0
    examples: list[str] = field(default_factory=list)  # a few prospects' addresses

    def as_json(self) -> dict[str, Any]:
        return {
            "from_version": self.from_version,
            "from_step": self.from_step,
            "to_step": self.to_step,
            "state": self.state,
            "count": self.count,
            "changes": self.changes,
            "examples": self.examples,
        }


@dataclass
class MigrationReport:
    key: str
    to_version: int
    dry_run: bool
    groups: list[Group] = field(default_factory=list)
    migrated: int = 0
    already: int = 0  # live enrollments already on the target version
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (prospect, reason)

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": self.key,
            "to_version": self.to_version,
            "dry_run": self.dry_run,
            "groups": [g.as_json() for g in self.groups],
            "migrated": self.migrated,
            "already_on_target": self.already,
            "skipped": [{"prospect": p, "reason": r} for p, r in self.skipped],
        }


@dataclass
class _Move:
    """One enrollment's move, computed before anything is written."""

    new_index: int
    new_step: str | None
    changes: list[str]
    variants: dict[str, str]
    cancel: list[OutboundMessage]
    rerender: list[tuple[OutboundMessage, str, str | None, Any]]  # msg, new id, variant, email
    retag: list[tuple[OutboundMessage, str]]  # msg, new step id (content unchanged)


class _Skip(Exception):
    """This enrollment cannot move now; the reason says why and what to do."""


def _version(number: int, row: SequenceVersion) -> step_map.Version:
    return step_map.Version(number, sequences.version_spec(row), dict(row.templates or {}))


def maps_to(
    session: Session, key: str, target: SequenceVersion, source_ids: set[int]
) -> dict[int, step_map.StepMap]:
    """The step map from each source version id to `target`; AmbiguousMigration if any is."""
    stored = {v.id: v for v in sequences.versions(session, key)}
    by_number = {v.version: v for v in stored.values()}
    out: dict[int, step_map.StepMap] = {}
    problems: list[str] = []
    for source_id in sorted(source_ids, key=lambda i: stored[i].version):
        source = stored[source_id]
        low, high = sorted((source.version, target.version))
        numbers = [n for n in range(low + 1, high) if n in by_number]
        if source.version > target.version:
            numbers.reverse()
        between = [_version(n, by_number[n]) for n in numbers]
        try:
            out[source_id] = step_map.build(
                _version(source.version, source), _version(target.version, target), between
            )
        except step_map.AmbiguousMapping as exc:
            problems += exc.problems
    if problems:
        raise AmbiguousMigration(
            f"cannot migrate {key} to v{target.version}: " + "; ".join(problems) + "; nothing "
            "was changed (push a fixed version, then run kadenz sequence migrate again)"
        )
    return out


def precheck(session: Session, key: str, spec: SequenceSpec, templates: dict[str, str]) -> None:
    """Before `push --migrate` stores anything: refuse a new spec no live enrollment can
    be mapped to (AmbiguousMigration)."""
    try:
        stored = sequences.versions(session, key)
    except NotFound:  # a brand-new sequence has nobody to migrate
        return
    newest = max((v.version for v in stored), default=0)
    live_versions = set(
        session.scalars(
            select(Enrollment.version_id).where(
                Enrollment.version_id.in_([v.id for v in stored]), Enrollment.state.in_(_LIVE)
            )
        )
    )
    target = step_map.Version(newest + 1, spec, templates)
    problems: list[str] = []
    for row in stored:
        if row.id not in live_versions:
            continue
        try:
            step_map.build(_version(row.version, row), target)
        except step_map.AmbiguousMapping as exc:
            problems += exc.problems
    if problems:
        raise AmbiguousMigration(
            f"cannot migrate {key} to the pushed file: " + "; ".join(problems) + "; nothing "
            "was pushed or changed (fix the file, or push without --migrate)"
        )


def plan(db: Database, key: str, to: int | None, at: datetime) -> MigrationReport:
    """The dry run: every group of enrollments, where it is, where it goes, what changes."""
    return _run(db, key, to, at, apply=False)


def migrate(db: Database, key: str, to: int | None, at: datetime) -> MigrationReport:
    """Move every live enrollment of `key` to version `to` (default: the current one)."""
    return _run(db, key, to, at, apply=True)


def _run(db: Database, key: str, to: int | None, at: datetime, *, apply: bool) -> MigrationReport:
    with db.session() as session:
        target = sequences.get_version(session, key, to)
        rows = session.execute(
            select(Enrollment.id, Enrollment.version_id).where(
                Enrollment.sequence_id == target.sequence_id, Enrollment.state.in_(_LIVE)
            )
        ).all()
        todo = sorted(i for i, v in rows if v != target.id)
        maps = maps_to(session, key, target, {v for _, v in rows if v != target.id})
        report = MigrationReport(key, target.version, dry_run=not apply)
        report.already = len(rows) - len(todo)
        target_id = target.id
    runtimes = Runtimes()
    groups: dict[tuple[Any, ...], Group] = {}
    for start in range(0, len(todo), CHUNK):
        with db.session() as session:
            here = session.get(SequenceVersion, target_id)
            assert here is not None
            for enrollment_id in todo[start : start + CHUNK]:
                _one(
                    session,
                    db.dialect,
                    enrollment_id,
                    maps,
                    here,
                    runtimes,
                    at,
                    apply,
                    report,
                    groups,
                )
            if not apply:
                session.rollback()
    report.groups = sorted(
        groups.values(), key=lambda g: (g.from_version, g.from_step or "", g.to_step or "")
    )
    return report


def _one(
    session: Session,
    dialect: str,
    enrollment_id: int,
    maps: dict[int, step_map.StepMap],
    target: SequenceVersion,
    runtimes: Runtimes,
    at: datetime,
    apply: bool,
    report: MigrationReport,
    groups: dict[tuple[Any, ...], Group],
) -> None:
    stmt = select(Enrollment).where(Enrollment.id == enrollment_id)
    if dialect == "postgresql" and apply:
        stmt = stmt.with_for_update(skip_locked=True)
    enrollment = session.scalars(stmt).first()
    prospect = session.get(Prospect, enrollment.prospect_id) if enrollment else None
    who = (prospect.email if prospect else None) or f"enrollment {enrollment_id}"
    if enrollment is None:
        report.skipped.append((who, "busy (a tick holds it): run the migration again"))
        return
    if enrollment.state not in _LIVE or enrollment.version_id == target.id:
        return  # ended or migrated since we listed it
    the_map = maps[enrollment.version_id]
    from_step = enrollment.step_id
    try:
        with session.begin_nested():
            lock = dialect == "postgresql" and apply
            move = _compute(session, enrollment, prospect, the_map, target, runtimes, lock)
            if apply:
                _write(session, enrollment, move, the_map, target, at)
    except _Skip as exc:
        report.skipped.append((who, str(exc)))
        return
    if apply:
        report.migrated += 1
    group_key = (the_map.source.number, from_step, enrollment.state, tuple(move.changes))
    group = groups.get(group_key)
    if group is None:
        group = groups[group_key] = Group(
            the_map.source.number, from_step, move.new_step, enrollment.state, move.changes
        )
    group.count += 1
    if len(group.examples) < 3:
        group.examples.append(who)


def _compute(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect | None,
    the_map: step_map.StepMap,
    target: SequenceVersion,
    runtimes: Runtimes,
    lock: bool,
) -> _Move:
    source_steps = the_map.source.spec.steps
    target_steps = the_map.target.spec.steps
    new_index = the_map.position(enrollment.step_index, started=enrollment.step_index > 0)
    new_step = target_steps[new_index].id if new_index < len(target_steps) else None
    old_step = enrollment.step_id
    changes: list[str] = []
    if old_step is not None and old_step in the_map.ids:
        mapped = the_map.ids[old_step]
        if mapped is None:
            changes.append(f"step '{old_step}' was removed: they go on with the next that is kept")
        elif old_step in the_map.renamed:
            changes.append(f"step '{old_step}' is now '{mapped}'")
    skipped = [s for s in the_map.added if target_steps.index(_step(target_steps, s)) < new_index]
    if skipped and enrollment.step_index > 0:
        changes.append(f"added before their place, not for them: {', '.join(skipped)}")
    if new_step is None and enrollment.step_index < len(source_steps):
        changes.append("no step left for them: they finish")
    variants: dict[str, str] = {}
    for old_id, variant in (enrollment.variants or {}).items():
        kept = step_map.kept_variant(the_map, old_id, variant)
        new_id = the_map.ids.get(old_id)
        if kept is not None and new_id is not None:
            variants[new_id] = kept
        elif new_id is not None:
            changes.append(f"variant '{variant}' of '{old_id}' is gone: a new one is chosen")
    move = _Move(new_index, new_step, changes, variants, [], [], [])
    pending = (
        select(OutboundMessage)
        .where(
            OutboundMessage.enrollment_id == enrollment.id,
            OutboundMessage.state.in_([MessageState.PLANNED, MessageState.SENDING]),
        )
        .order_by(OutboundMessage.id)
    )
    # Locked, so a sender cannot claim a message while it is re-rendered or cancelled (the
    # sender skips locked rows; one it claimed first is seen here as `sending`).
    messages = session.scalars(pending.with_for_update() if lock else pending).all()
    for message in messages:
        if message.state == MessageState.SENDING:
            raise _Skip(
                f"its email of step '{message.step_id}' is being sent right now: "
                "run the migration again in a minute"
            )
        new_id = the_map.ids.get(message.step_id)
        if new_id is None:
            move.cancel.append(message)
            changes.append(f"planned email of removed step '{message.step_id}' cancelled")
        elif message.step_id in the_map.changed:
            chosen, email = _rerender(
                session, enrollment, prospect, message, new_id, variants, target, runtimes
            )
            move.rerender.append((message, new_id, chosen, email))
            changes.append(f"planned email of '{message.step_id}' re-rendered (content changed)")
        else:
            move.retag.append((message, new_id))
    return move


def _step(steps: list[Any], step_id: str) -> Any:
    return next(s for s in steps if s.id == step_id)


def _rerender(
    session: Session,
    enrollment: Enrollment,
    prospect: Prospect | None,
    message: OutboundMessage,
    new_id: str,
    variants: dict[str, str],
    target: SequenceVersion,
    runtimes: Runtimes,
) -> tuple[str | None, Any]:
    runtime = runtimes.get(session, target.id)
    step = _step(runtime.spec.steps, new_id)
    assert isinstance(step, EmailStep) and prospect is not None
    variant = variants.get(new_id) or choose_variant(enrollment.id, step)
    previous = session.scalars(
        select(OutboundMessage.subject)
        .where(
            OutboundMessage.enrollment_id == enrollment.id,
            OutboundMessage.id < message.id,
            OutboundMessage.state != MessageState.CANCELLED,
        )
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    ).first()
    mailbox = session.get(Mailbox, message.mailbox_id)
    try:
        email = runtime.renderer.render_email(
            step,
            variant,
            runtime.context(prospect, mailbox, sending_user({}, mailbox, session)),
            previous_subject=previous if step.thread == "previous" and previous else "",
        )
    except MissingVariable as exc:
        fix = sender_fix(exc.names, mailbox) or (
            "this prospect lacks it: fill it in (kadenz prospects import)"
        )
        raise _Skip(
            f"v{target.version} of step '{new_id}' needs {', '.join(exc.names)}; {fix}, "
            "and migrate again"
        ) from None
    return (variant if step.variants else None), email


def _write(
    session: Session,
    enrollment: Enrollment,
    move: _Move,
    the_map: step_map.StepMap,
    target: SequenceVersion,
    at: datetime,
) -> None:
    for message in move.cancel:
        message.state = str(advance_message(MessageState.PLANNED, MessageState.CANCELLED))
        message.held_reason = f"step removed in v{target.version}"
        message.updated_at = at
        events.record(
            session,
            EventType.MESSAGE_CANCELLED,
            at,
            message=message,
            data={"reason": message.held_reason},
        )
        if enrollment.next_run_at is None:
            enrollment.next_run_at = at  # it waited for this send; it goes on now instead
    for message, new_id, variant, email in move.rerender:
        message.step_id = new_id
        message.version_id = target.id
        message.variant = variant
        message.subject = email.subject
        message.body_text = email.text
        message.body_html = email.html
        message.updated_at = at
    for message, new_id in move.retag:
        message.step_id = new_id
        message.version_id = target.id
        message.updated_at = at
    from_version, from_step = the_map.source.number, enrollment.step_id
    enrollment.version_id = target.id
    enrollment.step_index = move.new_index
    enrollment.step_id = move.new_step
    enrollment.variants = move.variants
    enrollment.updated_at = at
    session.flush()
    events.record(
        session,
        EventType.MIGRATED,
        at,
        enrollment=enrollment,
        data={
            "from_version": from_version,
            "to_version": target.version,
            "from_step": from_step,
            "to_step": move.new_step,
            "changes": move.changes,
        },
    )

"""Storing sequences: push a loaded file as a new immutable version, read versions back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.states import LIVE_ENROLLMENT_STATES
from engine.errors import InvalidInput, NotFound
from engine.sequence_language import moves
from engine.sequence_language.loader import LoadedSequence, spec_from_json
from engine.sequence_language.model import EmailStep, SequenceSpec, WaitStep
from engine.sequence_language.render import MissingVariable, Renderer, prospect_context
from engine.store.models import Enrollment, Mailbox, Prospect, Sequence, SequenceVersion, User


def push(session: Session, loaded: LoadedSequence, at: datetime) -> tuple[SequenceVersion, bool]:
    """Store `loaded` as the sequence's newest version; (version, created).

    Idempotent: content already stored (same hash) returns that version with created=False,
    and pushing an older content again makes it current again without a new number.
    """
    spec = loaded.spec
    sequence = session.scalar(select(Sequence).where(Sequence.key == spec.key).with_for_update())
    if sequence is None:
        sequence = Sequence(key=spec.key, name=spec.name, archived=False, created_at=at)
        session.add(sequence)
        session.flush()
    existing = session.scalar(
        select(SequenceVersion).where(
            SequenceVersion.sequence_id == sequence.id,
            SequenceVersion.content_hash == loaded.content_hash,
        )
    )
    if existing is not None:
        sequence.current_version_id = existing.id
        return existing, False
    newest = session.scalar(
        select(func.max(SequenceVersion.version)).where(SequenceVersion.sequence_id == sequence.id)
    )
    version = SequenceVersion(
        sequence_id=sequence.id,
        version=(newest or 0) + 1,
        content_hash=loaded.content_hash,
        source_path=str(loaded.path),
        source=loaded.source,
        spec=spec.model_dump(mode="json"),
        templates=dict(loaded.templates),
        created_at=at,
    )
    session.add(version)
    session.flush()
    sequence.name = spec.name
    sequence.current_version_id = version.id
    return version, True


def get_sequence(session: Session, key: str) -> Sequence:
    sequence = session.scalar(select(Sequence).where(Sequence.key == key))
    if sequence is None:
        known = session.scalars(select(Sequence.key).order_by(Sequence.key)).all()
        hint = f"known: {', '.join(known)}" if known else "push one: kadenz sequence push FILE"
        raise NotFound(f"no sequence with key {key!r} ({hint})")
    return sequence


def get_version(session: Session, key: str, version: int | None = None) -> SequenceVersion:
    """A stored version by number, or the current one."""
    sequence = get_sequence(session, key)
    if version is None:
        found = session.get(SequenceVersion, sequence.current_version_id or -1)
    else:
        found = session.scalar(
            select(SequenceVersion).where(
                SequenceVersion.sequence_id == sequence.id, SequenceVersion.version == version
            )
        )
    if found is None:
        numbers = [v.version for v in versions(session, key)]
        listed = ", ".join(f"v{n}" for n in numbers) or "none"
        raise NotFound(f"sequence {key!r} has no version {version} (versions: {listed})")
    return found


def versions(session: Session, key: str) -> list[SequenceVersion]:
    sequence = get_sequence(session, key)
    return list(
        session.scalars(
            select(SequenceVersion)
            .where(SequenceVersion.sequence_id == sequence.id)
            .order_by(SequenceVersion.version)
        )
    )


@dataclass(frozen=True, slots=True)
class SequenceSummary:
    key: str
    name: str
    current_version: int | None
    versions: int
    archived: bool
    updated_at: datetime | None
    paused: bool = False


def list_sequences(session: Session) -> list[SequenceSummary]:
    """Every sequence with its current version number, by key."""
    rows = session.execute(
        select(Sequence, func.count(SequenceVersion.id))
        .outerjoin(SequenceVersion, SequenceVersion.sequence_id == Sequence.id)
        .group_by(Sequence.id)
        .order_by(Sequence.key)
    ).all()
    out = []
    for sequence, count in rows:
        current = session.get(SequenceVersion, sequence.current_version_id or -1)
        out.append(
            SequenceSummary(
                key=sequence.key,
                name=sequence.name,
                current_version=current.version if current else None,
                versions=int(count),
                archived=sequence.archived,
                updated_at=current.created_at if current else None,
                paused=sequence.paused,
            )
        )
    return out


def version_spec(version: SequenceVersion) -> SequenceSpec:
    return spec_from_json(version.spec)


# --- preview ---------------------------------------------------------------------------

PLACEHOLDER_SENDER = {"name": "Your Name", "email": "you@example.com", "signature": None}


@dataclass(frozen=True, slots=True)
class PreviewEmail:
    step_id: str
    variant: str
    thread: str
    sender: str  # From header
    recipient: str  # To header
    subject: str | None
    text: str | None
    html: str | None
    missing: list[str]  # when not empty, the enrollment would pause here


@dataclass(frozen=True, slots=True)
class PreviewTask:
    step_id: str
    type: str  # call | task
    title: str | None
    notes: str | None
    due: str
    blocking: bool
    missing: list[str]


@dataclass(frozen=True, slots=True)
class PreviewWait:
    step_id: str
    duration: str


@dataclass(frozen=True, slots=True)
class Preview:
    key: str
    version: int
    prospect: str
    mailbox: str | None  # None: a placeholder sender was used
    items: list[PreviewEmail | PreviewTask | PreviewWait]

    @property
    def missing(self) -> list[str]:
        names: list[str] = []
        for item in self.items:
            for name in getattr(item, "missing", []):
                if name not in names:
                    names.append(name)
        return names


def find_prospect(session: Session, email: str) -> Prospect:
    try:
        key = addresses.normalise(email).key
    except addresses.InvalidAddress as exc:
        raise InvalidInput(f"--prospect {email!r}: {exc}") from None
    prospect = session.scalar(select(Prospect).where(Prospect.email_key == key))
    if prospect is None or prospect.erased_at is not None:
        raise NotFound(
            f"no prospect {email} (import them first: kadenz prospects import prospects.csv)"
        )
    return prospect


def pick_mailbox(
    session: Session, spec: SequenceSpec, prospect: Prospect | None = None
) -> Mailbox | None:
    """The mailbox a preview sends from: the one `prospect` is enrolled with in this
    sequence; under `mailboxes: owner` their owner's; else the sequence's first existing
    one, else any."""
    query = select(Mailbox).order_by(Mailbox.id)
    if prospect is not None:
        enrolled = session.scalars(
            select(Mailbox)
            .join(Enrollment, Enrollment.mailbox_id == Mailbox.id)
            .join(Sequence, Sequence.id == Enrollment.sequence_id)
            .where(
                Enrollment.prospect_id == prospect.id,
                Sequence.key == spec.key,
                Enrollment.state.in_([str(s) for s in LIVE_ENROLLMENT_STATES]),
            )
            .order_by(Enrollment.id.desc())
            .limit(1)
        ).first()
        if enrolled is not None:
            return enrolled
        if spec.sender == "owner" and prospect.owner:
            owned = session.scalars(query.where(Mailbox.owner == prospect.owner)).first()
            if owned is not None:
                return owned
    if spec.mailboxes:
        by_name = {
            m.name: m for m in session.scalars(query.where(Mailbox.name.in_(spec.mailboxes)))
        }
        for name in spec.mailboxes:
            if name in by_name:
                return by_name[name]
        return None
    return session.scalars(query.limit(1)).first()


def prospect_fields(prospect: Prospect) -> dict[str, Any]:
    """The prospect row as the mapping `prospect_context` takes."""
    return {
        "first_name": prospect.first_name,
        "last_name": prospect.last_name,
        "email": prospect.email,
        "company": prospect.company,
        "title": prospect.title,
        "phone": prospect.phone,
        "timezone": prospect.timezone,
        "country": prospect.country,
        "region": prospect.region,
        "owner": prospect.owner,
        "custom": dict(prospect.custom or {}),
    }


def sender_fields(mailbox: Mailbox | None, owner: User | None = None) -> dict[str, Any]:
    """`sender.*` for a preview: the mailbox, and its owner's booking link."""
    if mailbox is None:
        return dict(PLACEHOLDER_SENDER)
    return {
        "name": mailbox.display_name or mailbox.address.split("@")[0],
        "email": mailbox.address,
        "signature": mailbox.signature,
        "booking_link": owner.booking_link if owner is not None else None,
    }


def mailbox_owner(session: Session, mailbox: Mailbox | None) -> User | None:
    """The user who sends from `mailbox` (`kadenz mailbox update NAME --owner USER`)."""
    if mailbox is None or not mailbox.owner:
        return None
    return session.scalars(select(User).where(User.name == mailbox.owner)).first()


def preview(
    session: Session,
    key: str,
    prospect_email: str,
    *,
    version: int | None = None,
    variant: str | None = None,
) -> Preview:
    """Every step of a version rendered for one prospect, as it would be sent."""
    stored = get_version(session, key, version)
    spec = version_spec(stored)
    if variant is not None and not any(variant in (s.variants or {}) for s in spec.email_steps):
        names = sorted({n for s in spec.email_steps for n in (s.variants or {})})
        raise InvalidInput(
            f"--variant {variant!r}: no email step of {key} has it "
            f"(variants: {', '.join(names) or 'none'})"
        )
    prospect = find_prospect(session, prospect_email)
    mailbox = pick_mailbox(session, spec, prospect)
    sender = sender_fields(mailbox, mailbox_owner(session, mailbox))
    context = prospect_context(prospect_fields(prospect), sender)
    renderer = Renderer(stored.templates)
    from_header = formataddr((sender["name"], sender["email"]))
    to_header = formataddr((context.get("full_name", ""), prospect.email or ""))
    items: list[PreviewEmail | PreviewTask | PreviewWait] = []
    last_subjects: dict[str, str] = {}
    for step in spec.steps:
        if isinstance(step, WaitStep):
            items.append(PreviewWait(step.id, str(step.duration)))
        elif isinstance(step, EmailStep):
            names = step.variant_names()
            if variant is not None and variant in names:
                names = [variant]
            subjects: dict[str, str] = {}
            for name in names:
                previous = last_subjects.get(name) or next(iter(last_subjects.values()), None)
                missing = renderer.missing_variables(step, context, variant=name)
                try:
                    if missing:
                        raise MissingVariable(missing)
                    email = renderer.render_email(step, name, context, previous_subject=previous)
                except MissingVariable as exc:
                    items.append(
                        PreviewEmail(
                            step.id,
                            name,
                            step.thread,
                            from_header,
                            to_header,
                            None,
                            None,
                            None,
                            exc.names,
                        )
                    )
                    continue
                subjects[name] = email.subject
                items.append(
                    PreviewEmail(
                        step.id,
                        name,
                        step.thread,
                        from_header,
                        to_header,
                        email.subject,
                        email.text,
                        email.html,
                        [],
                    )
                )
            last_subjects = subjects or last_subjects
        else:
            missing = renderer.missing_variables(step.title, context)
            if step.notes:
                missing += [
                    n for n in renderer.missing_variables(step.notes, context) if n not in missing
                ]
            items.append(
                PreviewTask(
                    step.id,
                    step.type,
                    None if missing else renderer.render_text(step.title, context),
                    None
                    if missing or not step.notes
                    else renderer.render_text(step.notes, context),
                    str(step.due),
                    step.blocking,
                    missing,
                )
            )
    return Preview(
        key,
        stored.version,
        prospect.email or prospect_email,
        mailbox.name if mailbox else None,
        items,
    )


def unknown_move_targets(session: Session, batch: list[LoadedSequence]) -> list[str]:
    """Rules whose `move_to` names a sequence neither stored nor in this push."""
    known = set(session.scalars(select(Sequence.key))) | {one.spec.key for one in batch}
    problems = []
    for one in batch:
        thens = [r.then for r in one.spec.rules]
        if one.spec.scoring is not None:
            thens += [t.then for t in one.spec.scoring.thresholds]
        for then in thens:
            if then.move_to is not None and then.move_to not in known:
                problems.append(
                    f"{one.path}: move_to {then.move_to!r} is not a known sequence "
                    "(push that sequence first, or in the same command)"
                )
    return problems


def move_cycles(session: Session, batch: list[LoadedSequence]) -> list[str]:
    """Rules whose `move_to` leads back to their own sequence, through stored ones too."""
    stored: dict[str, set[str]] = {}
    rows = session.execute(
        select(Sequence.key, SequenceVersion.spec).join(
            SequenceVersion, SequenceVersion.id == Sequence.current_version_id
        )
    )
    for key, spec in rows:
        stored[key] = moves.targets(spec_from_json(spec))
    found = moves.cycle_diagnostics(
        ((str(one.path), one.source, one.spec) for one in batch), stored
    )
    return [str(d) for d in found]

"""The SDR inbox: inbound mail that needs a person, handled in one place.

What needs a person: human replies, messages the classifier could not decide
(`unclassified`), and out-of-office notes (their return date decides when the sequence goes
on, and someone may want to know). Bounces, delivery reports and other automatic mail are
handled by the engine and stay out. Each item shows its class, intent and evidence; a person
can reclassify it (engine.inbound.reclassify), mark it done, answer it in the thread, or
leave a note on the prospect.

An answer is an outbound message like the sequence's own (engine.core.person_replies): it is
planned now, from the enrollment's mailbox, with `In-Reply-To`/`References` of the
prospect's message, and the normal send path sends it — at most once (a double click is the
same reply), within the mailbox's caps, never to a suppressed address.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.core import addresses, person_replies
from engine.core.classification import InboundClass
from engine.core.events import EventType
from engine.core.states import MessageState
from engine.errors import Conflict, InvalidInput, NotFound
from engine.mail.compose import new_message_id
from engine.sequence_language.render import reply_subject
from engine.settings import Settings
from engine.store import event_log as events
from engine.store.models import (
    Enrollment,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Prospect,
    ProspectNote,
    Sequence,
)

NEEDS_PERSON = (InboundClass.HUMAN_REPLY, InboundClass.UNCLASSIFIED, InboundClass.AUTO_REPLY)
MAX_REPLY = 20_000  # characters a person's answer may have
MAX_QUOTE = 2_000  # characters of the prospect's text quoted under it
_ID = re.compile(r"<([^<>\s]{1,250})>")


@dataclass(slots=True)
class InboxItem:
    id: int
    received_at: datetime
    from_address: str | None
    subject: str | None
    classification: str
    intent: str | None
    return_date: date | None
    evidence: list[str]
    text: str
    prospect: str | None
    prospect_id: int | None
    enrollment_id: int | None
    sequence: str | None
    owner: str | None
    handled_at: datetime | None = None
    handled_by: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime | date) else value
        return out


def _needs_person(row: InboundMessage) -> bool:
    if row.classification == InboundClass.AUTO_REPLY:
        kind = (row.data.get("classification") or {}).get("auto_reply_kind")
        return row.return_date is not None or kind == "out_of_office"
    return row.classification in NEEDS_PERSON


def _text(row: InboundMessage) -> str:
    found = (row.data.get("classification") or {}).get("reply_text")
    return str(found or "")[:MAX_QUOTE]


def items(
    session: Session,
    *,
    owner: str | None = None,
    include_handled: bool = False,
    limit: int = 100,
) -> list[InboxItem]:
    """The newest inbound messages that need a person; `owner` keeps one SDR's."""
    classes = [str(c) for c in NEEDS_PERSON]
    stmt = (
        select(InboundMessage, Prospect, Enrollment, Sequence.key)
        .outerjoin(Prospect, Prospect.id == InboundMessage.prospect_id)
        .outerjoin(Enrollment, Enrollment.id == InboundMessage.enrollment_id)
        .outerjoin(Sequence, Sequence.id == Enrollment.sequence_id)
        .where(InboundMessage.classification.in_(classes))
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
    )
    if not include_handled:
        stmt = stmt.where(InboundMessage.handled_at.is_(None))
    if owner is not None:
        stmt = stmt.where(or_(Enrollment.owner == owner, Prospect.owner == owner))
    out: list[InboxItem] = []
    for row, prospect, enrollment, sequence in session.execute(stmt.limit(limit * 3)):
        if not _needs_person(row):
            continue
        out.append(
            InboxItem(
                id=row.id,
                received_at=row.received_at,
                from_address=row.from_address,
                subject=row.subject,
                classification=row.classification,
                intent=row.intent,
                return_date=row.return_date,
                evidence=list(row.evidence or []),
                text=_text(row),
                prospect=(prospect.email if prospect else None),
                prospect_id=row.prospect_id,
                enrollment_id=row.enrollment_id,
                sequence=sequence,
                owner=(enrollment.owner if enrollment else None)
                or (prospect.owner if prospect else None),
                handled_at=row.handled_at,
                handled_by=row.handled_by,
            )
        )
        if len(out) >= limit:
            break
    return out


def get(session: Session, inbound_id: int, *, owner: str | None = None) -> InboundMessage:
    """One inbound message of the inbox; another SDR's answers NotFound, as if absent."""
    return _row(session, inbound_id, owner)


def _row(session: Session, inbound_id: int, owner: str | None) -> InboundMessage:
    row = session.get(InboundMessage, inbound_id)
    if row is not None and owner is not None:
        mine = [
            session.get(Enrollment, row.enrollment_id) if row.enrollment_id else None,
            session.get(Prospect, row.prospect_id) if row.prospect_id else None,
        ]
        if not any(x is not None and x.owner == owner for x in mine):
            row = None  # another SDR's: as if it did not exist
    if row is None:
        raise NotFound(f"inbound message #{inbound_id} is not in your inbox (see `kadenz inbox`)")
    return row


def mark_done(
    session: Session, inbound_id: int, *, by: str, at: datetime, owner: str | None = None
) -> InboundMessage:
    """Take a message out of the inbox (idempotent: done twice is done)."""
    row = _row(session, inbound_id, owner)
    if row.handled_at is None:
        row.handled_at, row.handled_by = at, by
        events.record(
            session,
            EventType.INBOX_HANDLED,
            at,
            prospect_id=row.prospect_id,
            enrollment_id=row.enrollment_id,
            inbound_id=row.id,
            data={"by": by},
        )
    return row


def reopen(
    session: Session, inbound_id: int, *, at: datetime, owner: str | None = None
) -> InboundMessage:
    row = _row(session, inbound_id, owner)
    row.handled_at, row.handled_by = None, None
    return row


def _thread(row: InboundMessage) -> tuple[str | None, list[str]]:
    """In-Reply-To and References for an answer to `row` (RFC 5322 §3.6.4)."""
    own = (row.header_message_id or "").strip().strip("<>") or None
    earlier: list[str] = []
    try:
        headers = email.message_from_bytes(row.raw[: 256 * 1024], policy=email.policy.compat32)
        for name in ("References", "In-Reply-To"):
            earlier.extend(_ID.findall(str(headers.get(name) or "")))
    except Exception:  # a malformed stored message still gets an answer threaded by its id
        earlier = []
    refs = list(dict.fromkeys([*earlier, *([own] if own else [])]))[-10:]
    return own, refs


def reply(
    session: Session,
    settings: Settings,
    inbound_id: int,
    *,
    text: str,
    key: str,
    by: str,
    at: datetime,
    owner: str | None = None,
) -> OutboundMessage:
    """Plan a person's answer to `inbound_id` in its thread; the send path sends it."""
    body = text.strip()
    if not body:
        raise InvalidInput("the reply is empty: write something to send")
    if len(body) > MAX_REPLY:
        raise InvalidInput(f"the reply is longer than {MAX_REPLY} characters")
    try:
        step = person_replies.step_id(inbound_id, key)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    row = _row(session, inbound_id, owner)
    existing = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.enrollment_id == row.enrollment_id, OutboundMessage.step_id == step
        )
    ).first()
    if existing is not None:
        return existing  # the same reply asked for twice (a double click, a retried request)
    enrollment = session.get(Enrollment, row.enrollment_id) if row.enrollment_id else None
    prospect = session.get(Prospect, row.prospect_id) if row.prospect_id else None
    if enrollment is None or prospect is None or not prospect.email:
        raise Conflict(
            f"inbound message #{inbound_id} is not matched to a prospect's enrollment; "
            "answer it from your mail client"
        )
    mailbox = session.get(Mailbox, enrollment.mailbox_id) if enrollment.mailbox_id else None
    if mailbox is None:
        raise Conflict("the enrollment has no mailbox to answer from")
    in_reply_to, references = _thread(row)
    quoted = _text(row)
    if quoted:
        when = row.received_at.strftime("%Y-%m-%d %H:%M UTC")
        lines = "\n".join(f"> {line}" for line in quoted.splitlines())
        body += f"\n\nOn {when}, {row.from_address or prospect.email} wrote:\n{lines}"
    domain = settings.message_id_domain or mailbox.address.rsplit("@", 1)[-1]
    message = OutboundMessage(
        enrollment_id=enrollment.id,
        step_id=step,
        prospect_id=prospect.id,
        mailbox_id=mailbox.id,
        sequence_id=enrollment.sequence_id,
        version_id=enrollment.version_id,
        variant=None,
        state=str(MessageState.PLANNED),
        to_address=prospect.email,
        from_address=mailbox.address,
        subject=reply_subject(row.subject or ""),
        body_text=body,
        body_html=None,
        message_id=new_message_id(domain),
        in_reply_to=in_reply_to,
        references=references,
        headers={},
        not_before=at,
        attempts=0,
        created_at=at,
        updated_at=at,
    )
    session.add(message)
    session.flush()
    events.record(session, EventType.MESSAGE_PLANNED, at, message=message, data={"by": by})
    events.record(
        session,
        EventType.INBOX_REPLIED,
        at,
        enrollment=enrollment,
        inbound_id=row.id,
        data={"by": by, "message": message.id},
    )
    if row.handled_at is None:
        row.handled_at, row.handled_by = at, by
    return message


def add_note(
    session: Session, prospect_email: str, text: str, *, by: str, at: datetime
) -> ProspectNote:
    body = text.strip()
    if not body:
        raise InvalidInput("the note is empty")
    if len(body) > MAX_REPLY:
        raise InvalidInput(f"the note is longer than {MAX_REPLY} characters")
    key = addresses.key_of(prospect_email)
    prospect = session.scalars(select(Prospect).where(Prospect.email_key == key)).first()
    if prospect is None:
        raise NotFound(f"no prospect with the email {prospect_email!r}")
    note = ProspectNote(prospect_id=prospect.id, author=by, text=body, created_at=at)
    session.add(note)
    events.record(session, EventType.NOTE_ADDED, at, prospect_id=prospect.id, data={"by": by})
    return note


def notes(session: Session, prospect_id: int) -> Seq[ProspectNote]:
    return session.scalars(
        select(ProspectNote)
        .where(ProspectNote.prospect_id == prospect_id)
        .order_by(ProspectNote.created_at, ProspectNote.id)
    ).all()

"""What a batch of tick steps reads, loaded in a handful of queries instead of per step.

The tick claims a batch of enrollments and executes their steps in one transaction; each
step needs its prospect, mailbox (and the user who owns it, for `sender.booking_link`), the
suppressions of its address and domain, whether a human replied, and (for a threaded email)
the previous message. Loaded per step, that is about ten queries each; loaded here, it is
seven per batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.states import MessageState
from engine.outbound.runtime import Runtimes, sending_users
from engine.sequence_language.model import EmailStep
from engine.store.matching import any_of, dialect_of
from engine.store.models import (
    Enrollment,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Prospect,
    Suppression,
    User,
)


@dataclass
class PlannedEmail:
    """An email step's new message, inserted with the rest of its batch."""

    row: dict[str, Any]  # every outbound_messages column but id
    enrollment: Enrollment
    step_id: str | None  # the step executed (the enrollment has moved on by insert time)
    variant: str | None
    planned: dict[str, Any]  # the MESSAGE_PLANNED event's data
    moved: dict[str, Any]  # the enrollment's new column values (next step, variants)


@dataclass
class Prefetched:
    prospects: dict[int, Prospect] = field(default_factory=dict)
    mailboxes: dict[int, Mailbox] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # the mailboxes' owners, by handle
    suppressed: dict[str, str] = field(default_factory=dict)  # email → reason
    replied: set[int] = field(default_factory=set)  # enrollment ids with a human reply
    previous: dict[int, OutboundMessage] = field(default_factory=dict)  # enrollment → last email
    emails: list[PlannedEmail] = field(default_factory=list)  # inserted at the batch's end

    @classmethod
    def load(cls, session: Session, batch: list[Enrollment], runtimes: Runtimes) -> Prefetched:
        ahead = cls()
        dialect = dialect_of(session)
        prospect_ids = {e.prospect_id for e in batch}
        ahead.prospects = {
            p.id: p
            for p in session.scalars(
                select(Prospect).where(any_of(Prospect.id, prospect_ids, dialect))
            )
        }
        mailbox_ids = {e.mailbox_id for e in batch if e.mailbox_id is not None}
        if mailbox_ids:
            ahead.mailboxes = {
                m.id: m
                for m in session.scalars(
                    select(Mailbox).where(any_of(Mailbox.id, mailbox_ids, dialect))
                )
            }
            ahead.users = sending_users(session, ahead.mailboxes.values())
        emails = [p.email for p in ahead.prospects.values() if p.email]
        ahead.suppressed = suppressed_among(session, emails)
        ids = [e.id for e in batch]
        replied = session.scalars(
            select(InboundMessage.enrollment_id).where(
                any_of(InboundMessage.enrollment_id, ids, dialect),
                InboundMessage.classification == "human_reply",
            )
        ).all()
        ahead.replied = {i for i in replied if i is not None}
        threaded = []
        for e in batch:
            step = runtimes.get(session, e.version_id).step_at(e.step_index)
            if isinstance(step, EmailStep) and step.thread == "previous":
                threaded.append(e.id)
        if threaded:
            rows = session.scalars(
                select(OutboundMessage)
                .where(
                    any_of(OutboundMessage.enrollment_id, threaded, dialect),
                    OutboundMessage.state.not_in([MessageState.CANCELLED]),
                )
                .order_by(OutboundMessage.id)
            ).all()
            for row in rows:  # ascending: the last one per enrollment wins
                ahead.previous[row.enrollment_id] = row
        return ahead


def suppressed_among(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """{email: reason} for each of `emails` whose address or domain is suppressed.

    The same rule as `suppression.find`, for many addresses in one query.
    """
    by_email: dict[str, str] = {}  # value hash → email
    by_domain: dict[str, list[str]] = {}
    for email in emails:
        key = addresses.key_of(email)
        by_email[addresses.value_hash("email", key)] = email
        domain_hash = addresses.value_hash("domain", addresses.domain_of(key))
        by_domain.setdefault(domain_hash, []).append(email)
    if not by_email:
        return {}
    dialect = dialect_of(session)
    rows = session.execute(
        select(Suppression.kind, Suppression.value_hash, Suppression.reason).where(
            or_(
                and_(
                    Suppression.kind == "email", any_of(Suppression.value_hash, by_email, dialect)
                ),
                and_(
                    Suppression.kind == "domain", any_of(Suppression.value_hash, by_domain, dialect)
                ),
            )
        )
    ).all()
    out: dict[str, str] = {}
    for kind, value_hash, reason in rows:
        if kind == "email":
            out.setdefault(by_email[value_hash], reason)
        else:
            for email in by_domain[value_hash]:
                out.setdefault(email, reason)
    return out

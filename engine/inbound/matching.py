"""Tie an inbound message to what we sent: outbound message, prospect, enrollments, account.

Order (the first that finds something wins, recorded as `matched_by`):
1. In-Reply-To / References tokens → OutboundMessage.message_id
2. bounce reports: the quoted original Message-ID → outbound; then the bounced recipient →
   the most recent sent outbound message to that address
3. the sender (or, for a bounce, the bounced recipient) → the prospect and its live enrollments
4. the sender's domain → the account with that domain (never a free-mail domain)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core.classification import BOUNCE_CLASSES, Classification, InboundClass
from engine.core.states import LIVE_ENROLLMENT_STATES, MessageState
from engine.inbound.classifier import match
from engine.store.models import Account, Enrollment, OutboundMessage, Prospect

_LIVE = [str(s) for s in LIVE_ENROLLMENT_STATES]
_DELIVERED_STATES = [str(MessageState.SENT), str(MessageState.AMBIGUOUS)]


@dataclass
class Match:
    matched_by: str | None = None
    outbound: OutboundMessage | None = None
    prospect: Prospect | None = None
    enrollments: list[Enrollment] = field(default_factory=list)  # whose sequence it concerns
    account: Account | None = None  # company match only (sender is not a prospect)


def find(session: Session, c: Classification) -> Match:
    outbound, how = _by_thread(session, c)
    if outbound is None and (c.kind in BOUNCE_CLASSES or c.kind is InboundClass.DELIVERED):
        outbound, how = _by_dsn(session, c)
    if outbound is not None:
        enrollment = session.get(Enrollment, outbound.enrollment_id)
        return Match(
            matched_by=how,
            outbound=outbound,
            prospect=session.get(Prospect, outbound.prospect_id),
            enrollments=[enrollment] if enrollment is not None else [],
        )
    for address in _person_addresses(c):
        prospect = session.scalars(select(Prospect).where(Prospect.email_key == address)).first()
        if prospect is not None:
            return Match(
                matched_by=match.MatchedBy.SENDER,
                prospect=prospect,
                enrollments=live_enrollments(session, prospect.id),
            )
    domain = match.company_domain(c.from_address)
    if domain and c.kind not in BOUNCE_CLASSES:
        account = session.scalars(select(Account).where(Account.domain == domain)).first()
        if account is not None:
            return Match(matched_by=match.MatchedBy.COMPANY, account=account)
    return Match()


def live_enrollments(session: Session, prospect_id: int) -> list[Enrollment]:
    stmt = (
        select(Enrollment)
        .where(Enrollment.prospect_id == prospect_id, Enrollment.state.in_(_LIVE))
        .order_by(Enrollment.id)
    )
    return list(session.scalars(stmt))


def _by_thread(session: Session, c: Classification) -> tuple[OutboundMessage | None, str]:
    tokens = match.thread_tokens(c)
    if not tokens:
        return None, ""
    rows = {
        o.message_id: o
        for o in session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.message_id.in_(match.lookup_variants(tokens))
            )
        )
    }
    for token in tokens:  # newest reference first
        found = rows.get(token) or rows.get(token.lower())
        if found is not None:
            return found, match.MatchedBy.THREAD
    return None, ""


def _by_dsn(session: Session, c: Classification) -> tuple[OutboundMessage | None, str]:
    original = match.normalise_message_id(c.original_message_id)
    if original:
        found = session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.message_id.in_(match.lookup_variants([original]))
            )
        ).first()
        if found is not None:
            return found, match.MatchedBy.DSN_ORIGINAL
    for recipient in c.recipients:
        key = match.address_key(recipient)
        if key is None:
            continue
        found = session.scalars(
            select(OutboundMessage)
            .where(
                func.lower(OutboundMessage.to_address) == key,
                OutboundMessage.state.in_([*_DELIVERED_STATES, str(MessageState.BOUNCED)]),
            )
            .order_by(OutboundMessage.sent_at.desc(), OutboundMessage.id.desc())
            .limit(1)
        ).first()
        if found is not None:
            return found, match.MatchedBy.DSN_RECIPIENT
    return None, ""


def _person_addresses(c: Classification) -> list[str]:
    """Whose prospect record this is about: the bounced recipients for DSNs, else the sender."""
    if c.kind in BOUNCE_CLASSES or c.kind in (InboundClass.COMPLAINT, InboundClass.DELIVERED):
        candidates = list(c.recipients)
        if c.kind is InboundClass.COMPLAINT:
            candidates.append(c.from_address or "")
    else:
        candidates = [c.from_address or ""]
    keys = [match.address_key(a) for a in candidates]
    return [k for k in keys if k]

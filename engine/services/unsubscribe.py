"""One-click unsubscribe (RFC 8058): verify the token, then opt the address out in one go.

Suppress the address (reason unsubscribe), stop every live enrollment of the prospect, cancel
their planned messages and append the events — all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import unsubscribe as tokens
from engine.core.events import EventType
from engine.core.states import LIVE_ENROLLMENT_STATES, EnrollmentState, MessageState
from engine.services import events, suppression
from engine.store.models import Enrollment, OutboundMessage, Prospect


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # "unsubscribed" | "already" | "invalid"
    address: str | None = None  # shown to the person, partly masked
    stopped: int = 0


def lookup(session: Session, secret: str, token: str) -> tuple[OutboundMessage, str] | None:
    """The message and address a token is valid for, or None (forged, tampered, unknown)."""
    outbound_id = tokens.read_outbound_id(token)
    if outbound_id is None:
        return None
    message = session.get(OutboundMessage, outbound_id)
    if message is None:
        return None
    prospect = session.get(Prospect, message.prospect_id)
    key = prospect.email_key if prospect is not None else message.to_address.lower()
    if not tokens.verify_token(secret, token, key):
        return None
    return message, key


def mask(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'•' * max(1, len(local) - 1)}@{domain}"


def unsubscribe(
    session: Session, secret: str, token: str, at: datetime, *, via: str = "link"
) -> Outcome:
    """Opt out the address a valid token names; idempotent; writes nothing for a bad token."""
    found = lookup(session, secret, token)
    if found is None:
        return Outcome("invalid")
    message, key = found
    already = suppression.find(session, key)
    if already is not None and already.reason == "unsubscribe":
        return Outcome("already", mask(key))
    suppression.add(session, key, reason="unsubscribe", at=at, source=f"link:{message.id}")
    stopped = 0
    live = session.scalars(
        select(Enrollment).where(
            Enrollment.prospect_id == message.prospect_id,
            Enrollment.state.in_([s.value for s in LIVE_ENROLLMENT_STATES]),
        )
    )
    for enrollment in live:
        enrollment.state = EnrollmentState.STOPPED
        enrollment.state_reason = "unsubscribe"
        enrollment.next_run_at = None
        enrollment.updated_at = at
        events.record(
            session, EventType.STOPPED, at, enrollment=enrollment, data={"reason": "unsubscribe"}
        )
        stopped += 1
    planned = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.prospect_id == message.prospect_id,
            OutboundMessage.state == MessageState.PLANNED,
        )
    )
    for m in planned:
        m.state = MessageState.CANCELLED
        m.updated_at = at
        events.record(
            session, EventType.MESSAGE_CANCELLED, at, message=m, data={"reason": "unsubscribe"}
        )
    origin = session.get(Enrollment, message.enrollment_id)
    events.record(
        session, EventType.UNSUBSCRIBED, at, enrollment=origin, message=message, data={"via": via}
    )
    return Outcome("unsubscribed", mask(key), stopped)

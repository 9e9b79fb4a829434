"""One-click unsubscribe (RFC 8058): verify the token, then opt the address out in one go.

Suppress the address (reason unsubscribe), stop every live enrollment of the prospect, cancel
their planned messages and append the events — all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine.core import unsubscribe as tokens
from engine.core.events import EventType
from engine.people import lifecycle, suppression
from engine.store import event_log as events
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
    stopped = lifecycle.stop_all_for_prospect(
        session, message.prospect_id, reason="unsubscribe", at=at
    )
    origin = session.get(Enrollment, message.enrollment_id)
    events.record(
        session, EventType.UNSUBSCRIBED, at, enrollment=origin, message=message, data={"via": via}
    )
    return Outcome("unsubscribed", mask(key), stopped)

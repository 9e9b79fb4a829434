"""A person's verdict on an ambiguous message (`kadenz message resolve ID --sent|--failed`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import MessageState
from engine.errors import Conflict, NotFound
from engine.outbound.outcomes import mark_failed, mark_sent
from engine.store.models import Event, OutboundMessage


def resolve_ambiguous(
    session: Session, message_id: int, *, delivered: bool, at: datetime, by: str | None = None
) -> OutboundMessage:
    """Record that an ambiguous message was delivered (sent) or not (failed)."""
    message = session.get(OutboundMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound(
            f"message {message_id} does not exist (see `kadenz outbox --state ambiguous`)"
        )
    if message.state != MessageState.AMBIGUOUS:
        raise Conflict(
            f"message {message_id} is {message.state}, not ambiguous: only ambiguous messages "
            "are resolved by hand"
        )
    message.updated_at = at
    if delivered:
        # The attempt happened when the message was moved to `sending`; waits count from there.
        attempt = session.scalars(
            select(Event.at)
            .where(Event.outbound_id == message.id, Event.type == EventType.MESSAGE_SENDING)
            .order_by(Event.at.desc())
            .limit(1)
        ).first()
        mark_sent(session, message, attempt or at)
    else:
        mark_failed(session, message, at, f"not delivered (resolved by {by or 'a person'})")
    return message

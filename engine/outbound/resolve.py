"""A person's verdict on an ambiguous message (`kadenz message resolve ID --sent|--failed`),
and what has been decided about one so far (`resolution`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import MessageState
from engine.errors import Conflict, NotFound
from engine.outbound.outcomes import mark_failed, mark_sent
from engine.store import event_log as events
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
    who = by or "a person"
    if delivered:
        # The attempt happened when the message was moved to `sending`; waits count from there.
        mark_sent(session, message, attempt_at(session, message) or at)
    else:
        mark_failed(session, message, at, f"not delivered (resolved by {who})")
    events.record(
        session,
        EventType.MESSAGE_RESOLVED,
        at,
        message=message,
        data={"by": who, "verdict": message.state, "evidence": "a person's word"},
    )
    return message


def attempt_at(session: Session, message: OutboundMessage) -> datetime | None:
    """When the message was last moved to `sending` (its send attempt)."""
    return session.scalars(
        select(Event.at)
        .where(Event.outbound_id == message.id, Event.type == EventType.MESSAGE_SENDING)
        .order_by(Event.at.desc())
        .limit(1)
    ).first()


def resolution(session: Session, message_id: int) -> list[tuple[datetime, dict[str, str]]]:
    """Every verdict on the message so far: (when, {by, verdict, evidence}), oldest first."""
    rows = session.execute(
        select(Event.at, Event.data)
        .where(Event.outbound_id == message_id, Event.type == EventType.MESSAGE_RESOLVED)
        .order_by(Event.id)
    ).all()
    return [(at, dict(data or {})) for at, data in rows]

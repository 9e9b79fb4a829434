"""Appending to the event log. Every state change calls `record` in the same transaction.

Batched paths (the tick, the sender) build plain rows with `values` and insert them together
with `insert_rows`: the same columns `record` writes, without an ORM object per event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.services import bulk
from engine.store.models import Enrollment, Event, OutboundMessage

COLUMNS = tuple(c.key for c in Event.__table__.columns if c.key != "id")
# What an event copies from its outbound message (besides outbound_id = the message's id).
MESSAGE_DIMS = (
    "prospect_id",
    "enrollment_id",
    "sequence_id",
    "version_id",
    "mailbox_id",
    "step_id",
    "variant",
)


def values(
    type: EventType,
    at: datetime,
    *,
    enrollment: Enrollment | None = None,
    message: OutboundMessage | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One event as a row: every column present. Dimensions are copied from the
    enrollment/message when given; `fields` set (or override) any column."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    if enrollment is not None:
        row.update(
            prospect_id=enrollment.prospect_id,
            enrollment_id=enrollment.id,
            sequence_id=enrollment.sequence_id,
            version_id=enrollment.version_id,
            mailbox_id=enrollment.mailbox_id,
            owner=enrollment.owner,
            step_id=enrollment.step_id,
        )
    if message is not None:
        for key in MESSAGE_DIMS:
            row[key] = getattr(message, key)
        row["outbound_id"] = message.id
    data = fields.pop("data", None) or {}
    row.update(fields)
    row["type"] = str(type)
    row["at"] = at
    row["data"] = data
    return row


def record(
    session: Session,
    type: EventType,
    at: datetime,
    *,
    enrollment: Enrollment | None = None,
    message: OutboundMessage | None = None,
    **fields: Any,
) -> Event:
    """Append one event. Dimensions are copied from the enrollment/message when given."""
    event = Event(**values(type, at, enrollment=enrollment, message=message, **fields))
    session.add(event)
    return event


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert event rows made by `values`, in order, in one statement per page."""
    bulk.insert_many(session, Event.__table__, rows)  # type: ignore[arg-type]

"""Appending to the event log. Every state change calls `record` in the same transaction.

Batched paths (the tick, the sender) build plain rows with `values` and insert them together
with `insert_rows`, or wrap their work in `batched(session)`: the same columns `record`
writes, without an ORM object and a flush per event.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.store import rows as rows_
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
_BUFFER = "kadenz_event_rows"  # session.info key of the rows `batched` collects


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
) -> Event | None:
    """Append one event. Dimensions are copied from the enrollment/message when given.

    Returns the new Event (its id once flushed), or None inside `batched`, where only a
    row is collected."""
    row = values(type, at, enrollment=enrollment, message=message, **fields)
    buffer = session.info.get(_BUFFER)
    if buffer is not None:
        buffer.append(row)
        return None
    event = Event(**row)
    session.add(event)
    return event


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Inside, `record` collects its rows; they are inserted together when the block ends
    without an error (nothing is inserted if it raises: the transaction is rolled back).

    Only for code that reads no events back and opens no savepoint: a row recorded inside
    a savepoint that rolls back would still be inserted.
    """
    if session.info.get(_BUFFER) is not None:  # already batched further out
        yield
        return
    rows: list[dict[str, Any]] = []
    session.info[_BUFFER] = rows
    try:
        yield
    finally:
        session.info.pop(_BUFFER, None)
    insert_rows(session, rows)


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert event rows made by `values`, in order, in one statement per page."""
    rows_.insert(session, cast(Table, Event.__table__), rows)

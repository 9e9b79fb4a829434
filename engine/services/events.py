"""Appending to the event log. Every state change calls `record` in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.store.models import Enrollment, Event, OutboundMessage


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
    dims: dict[str, Any] = {}
    if enrollment is not None:
        dims.update(
            prospect_id=enrollment.prospect_id,
            enrollment_id=enrollment.id,
            sequence_id=enrollment.sequence_id,
            version_id=enrollment.version_id,
            mailbox_id=enrollment.mailbox_id,
            owner=enrollment.owner,
            step_id=enrollment.step_id,
        )
    if message is not None:
        dims.update(
            prospect_id=message.prospect_id,
            enrollment_id=message.enrollment_id,
            sequence_id=message.sequence_id,
            version_id=message.version_id,
            mailbox_id=message.mailbox_id,
            step_id=message.step_id,
            variant=message.variant,
            outbound_id=message.id,
        )
    data = fields.pop("data", None) or {}
    dims.update(fields)
    event = Event(type=str(type), at=at, data=data, **dims)
    session.add(event)
    return event

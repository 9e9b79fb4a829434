"""The append-only event log. Every state change writes one; reports are computed from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import BigId, JSONType, UTCDateTime


class Event(Base):
    """One thing that happened. Dimensions are denormalised so reports need no joins.

    No foreign keys: events must outlive erasure and deletion of what they describe.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    type: Mapped[str] = mapped_column(String(48))  # engine.core.events.EventType
    prospect_id: Mapped[int | None] = mapped_column(Integer)
    enrollment_id: Mapped[int | None] = mapped_column(Integer)
    sequence_id: Mapped[int | None] = mapped_column(Integer)
    version_id: Mapped[int | None] = mapped_column(Integer)
    step_id: Mapped[str | None] = mapped_column(String(100))
    variant: Mapped[str | None] = mapped_column(String(32))
    mailbox_id: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str | None] = mapped_column(String(200))
    outbound_id: Mapped[int | None] = mapped_column(Integer)
    inbound_id: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


Index("ix_events_at", Event.at)
Index("ix_events_enrollment", Event.enrollment_id)
Index("ix_events_prospect", Event.prospect_id)
Index("ix_events_sequence_type", Event.sequence_id, Event.type)

"""Tasks for people: calls, manual emails and generic to-dos in an SDR's queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import UTCDateTime


class Task(Base):
    __tablename__ = "tasks"
    # A sequence step creates at most one task per enrollment (a rerun tick cannot add a second).
    __table_args__ = (UniqueConstraint("enrollment_id", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # call | manual_email | task
    prospect_id: Mapped[int | None] = mapped_column(ForeignKey("prospects.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    step_id: Mapped[str | None] = mapped_column(String(100))  # None for rule-made tasks
    owner: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)  # talk track, instructions
    state: Mapped[str] = mapped_column(String(16))  # engine.core.states.TaskState
    outcome: Mapped[str | None] = mapped_column(String(32))  # connected, voicemail, meeting_booked…
    blocking: Mapped[bool] = mapped_column(default=True)  # the enrollment waits for it
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


Index("ix_tasks_queue", Task.owner, Task.state, Task.due_at)

"""Sequences, their immutable versions, and enrollments (a prospect walking a version)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import JSONType, UTCDateTime


class Sequence(Base):
    __tablename__ = "sequences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    current_version_id: Mapped[int | None] = mapped_column(Integer)  # newest pushed version
    archived: Mapped[bool] = mapped_column(default=False)  # no new enrollments
    paused: Mapped[bool] = mapped_column(default=False)  # every enrollment held (kill switch)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SequenceVersion(Base):
    """An immutable snapshot: the YAML, the parsed spec and every template it uses.

    Enrollments are pinned to a version, so editing a live sequence never changes what an
    enrolled prospect receives until they are migrated on purpose.
    """

    __tablename__ = "sequence_versions"
    __table_args__ = (
        UniqueConstraint("sequence_id", "version"),
        UniqueConstraint("sequence_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of source + templates
    source_path: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)  # the YAML as pushed
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the validated model, as JSON
    templates: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)  # name -> source
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Enrollment(Base):
    """One prospect in one sequence version. `next_run_at` is the only timer (DESIGN inv. 1)."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id"), index=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("sequence_versions.id"))
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # engine.core.states.EnrollmentState
    state_reason: Mapped[str | None] = mapped_column(Text)  # why it is paused/stopped/waiting
    step_index: Mapped[int] = mapped_column(Integer, default=0)  # index into the version's steps
    step_id: Mapped[str | None] = mapped_column(String(100))  # stable id of the current step
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    step_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # waits count from here
    variants: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)  # step id -> variant
    owner: Mapped[str | None] = mapped_column(String(200))
    enrolled_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The tick's claim query: due, active enrollments in time order.
Index("ix_enrollments_due", Enrollment.state, Enrollment.next_run_at)
# One live enrollment per (prospect, sequence); finished/stopped ones may repeat.
Index(
    "uq_enrollments_live",
    Enrollment.prospect_id,
    Enrollment.sequence_id,
    unique=True,
    postgresql_where=text("state IN ('active', 'waiting', 'paused')"),
    sqlite_where=text("state IN ('active', 'waiting', 'paused')"),
)


class PolicyVersion(Base):
    """One pushed workspace policy file (contact limits across sequences); the newest wins."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)  # the YAML as pushed
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the validated policy, as JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

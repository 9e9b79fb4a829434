"""Tables of the web layer: report facts and rollups, and outgoing webhooks with their log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import BigId, JSONType, UTCDateTime


class ReportFact(Base):
    """One countable fact about one enrollment ("contacted", "replied", …), at most once.

    Facts turn the event log into prospect-level truths (distinct counts), and are what a
    reclassified reply removes. Dimensions are those of the message the fact is attributed to.
    Empty string / 0 stand for "none" so that unique keys work the same on every database.
    """

    __tablename__ = "report_facts"
    __table_args__ = (UniqueConstraint("enrollment_id", "metric", "step_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(32))
    step_key: Mapped[str] = mapped_column(String(100), default="")  # per-step facts only
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[date] = mapped_column(Date)
    sequence_id: Mapped[int] = mapped_column(Integer, default=0)
    version_id: Mapped[int] = mapped_column(Integer, default=0)
    step_id: Mapped[str] = mapped_column(String(100), default="")
    variant: Mapped[str] = mapped_column(String(32), default="")
    mailbox_id: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[float | None] = mapped_column(Float)  # e.g. seconds to first reply
    inbound_id: Mapped[int | None] = mapped_column(Integer)


Index("ix_report_facts_metric", ReportFact.metric, ReportFact.sequence_id)


class ReportRollup(Base):
    """Per-day counts of facts by every report dimension; reports sum these rows."""

    __tablename__ = "report_rollups"
    __table_args__ = (
        UniqueConstraint(
            "day",
            "sequence_id",
            "version_id",
            "step_id",
            "variant",
            "mailbox_id",
            "owner",
            "metric",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    sequence_id: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(100))
    variant: Mapped[str] = mapped_column(String(32))
    mailbox_id: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReportCursor(Base):
    """How far the rollups have read the event log (the last event id processed)."""

    __tablename__ = "report_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportGap(Base):
    """An event id the rollups passed while it was missing (PostgreSQL: ids are taken before
    commit, so its transaction may still commit). Revisited until its event arrives or every
    transaction that could hold it has ended (`horizon`: the snapshot's xmax when noticed)."""

    __tablename__ = "report_gaps"

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    horizon: Mapped[int] = mapped_column(BigInteger)


class Webhook(Base):
    """An outgoing webhook: a URL, the event kinds it wants, and its signing secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_event_id: Mapped[int] = mapped_column(BigId, default=0)  # events already queued
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One event to deliver to one webhook, with its attempts (the delivery log)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(Integer, index=True)
    event_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(48))  # reply, positive_reply, bounce, …
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


Index("ix_webhook_deliveries_due", WebhookDelivery.state, WebhookDelivery.next_attempt_at)

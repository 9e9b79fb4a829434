"""Inbound mail (replies, bounces, auto-replies) and IMAP polling checkpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import BigId, JSONType, UTCDateTime


class InboundMessage(Base):
    """A received message, stored raw with its classification and the evidence for it.

    `dedupe_key` is the Message-ID, or a hash of the raw bytes when there is none, so the
    same message ingested twice (IMAP re-poll, a file fed again) is processed once.
    """

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id"))
    source: Mapped[str] = mapped_column(String(32))  # imap, file, http, demo
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    header_message_id: Mapped[str | None] = mapped_column(String(500))
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The classifier's verdict (engine.inbound.classifier): class, intent, confidence, evidence.
    classification: Mapped[str] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    evidence: Mapped[list[str]] = mapped_column(JSONType, default=list)
    recipients: Mapped[list[str]] = mapped_column(JSONType, default=list)  # bounced addresses
    status_code: Mapped[str | None] = mapped_column(String(16))
    return_date: Mapped[date | None] = mapped_column(Date)
    # What it was matched to, and by which rule.
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"), index=True)
    prospect_id: Mapped[int | None] = mapped_column(ForeignKey("prospects.id"), index=True)
    matched_by: Mapped[str | None] = mapped_column(String(64))
    overridden_by: Mapped[str | None] = mapped_column(String(200))  # a human reclassified it
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The SDR inbox: a person marked it handled (done, or answered from the inbox).
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    handled_by: Mapped[str | None] = mapped_column(String(200))


class ProspectNote(Base):
    """A person's note on a prospect (from the inbox, the CLI or the API)."""

    __tablename__ = "prospect_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ImapCheckpoint(Base):
    """Where polling of one folder stopped: UIDVALIDITY plus the last UID seen."""

    __tablename__ = "imap_checkpoints"
    __table_args__ = (UniqueConstraint("mailbox_id", "folder"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    last_uid: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

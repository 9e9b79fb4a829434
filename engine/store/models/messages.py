"""Outbound messages: at most one per (enrollment, step), enforced by the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import JSONType, UTCDateTime


class OutboundMessage(Base):
    """An email we plan to send, are sending, or sent. See engine.core.states.MessageState.

    The Message-ID is generated and committed (with state `sending`) before any SMTP byte is
    written, so a crash can always be traced to one row and is never retried blindly.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (UniqueConstraint("enrollment_id", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    step_id: Mapped[str] = mapped_column(String(100))
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id"), index=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("sequence_versions.id"))
    variant: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # engine.core.states.MessageState
    to_address: Mapped[str] = mapped_column(String(320))
    from_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # <…@our-domain>, no brackets
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    references: Mapped[list[str]] = mapped_column(JSONType, default=list)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # extra, validated
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())  # earliest send (window, retry)
    held_reason: Mapped[str | None] = mapped_column(Text)  # why it is still planned (cap, window)
    review: Mapped[str | None] = mapped_column(String(16))  # manual email: pending | approved
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # while `sending`
    # Who holds the `sending` claim (a random token per claim): a sender only starts, records
    # or releases a message whose token is still its own (engine.core.states, "never twice").
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # Committed before DATA: the message's content may have gone out. A `sending` message
    # without it had sent no DATA when its sender died, so it goes back to `planned`.
    smtp_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The started transaction's outcome (engine.mail.smtp.SendOutcome), committed the moment
    # it is known; its consequences (state, enrollment, events) follow in a batch. A crash
    # in between applies it from here instead of calling the message ambiguous.
    smtp_outcome: Mapped[str | None] = mapped_column(String(16))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_status: Mapped[str | None] = mapped_column(String(16))  # enhanced status, e.g. 5.1.1
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The sender's claim query: planned messages whose time has come, per mailbox, in (not_before,
# id) order — the index is that order, so a claim reads only the rows it takes (0012).
Index(
    "ix_outbound_due",
    OutboundMessage.state,
    OutboundMessage.mailbox_id,
    OutboundMessage.not_before,
    OutboundMessage.id,
)
Index("ix_outbound_sent", OutboundMessage.mailbox_id, OutboundMessage.sent_at)

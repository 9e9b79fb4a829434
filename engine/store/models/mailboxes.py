"""Sending mailboxes: the team's own addresses, with their SMTP/IMAP settings and caps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import JSONType, UTCDateTime


class Mailbox(Base):
    """A sender. Passwords are never stored: `password_env` names the variable that holds one."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    smtp_url: Mapped[str] = mapped_column(String(500))  # smtp://, smtp+starttls://, smtps://
    imap_url: Mapped[str | None] = mapped_column(String(500))  # imap://, imaps://
    username: Mapped[str | None] = mapped_column(String(320))
    password_env: Mapped[str | None] = mapped_column(String(128))
    imap_folders: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Where the provider files what we submit over SMTP (None: the folder marked \\Sent,
    # RFC 6154), and whether it files *every* submission there (None: decided by the
    # provider's host, engine.outbound.sent_proof.files_submissions).
    sent_folder: Mapped[str | None] = mapped_column(String(200))
    sent_folder_files_submissions: Mapped[bool | None] = mapped_column(Boolean)
    timezone: Mapped[str | None] = mapped_column(String(64))
    daily_cap: Mapped[int] = mapped_column(Integer, default=50)  # per rolling 24 h
    hourly_cap: Mapped[int | None] = mapped_column(Integer)
    min_gap_seconds: Mapped[int] = mapped_column(Integer, default=0)
    per_domain_daily_cap: Mapped[int | None] = mapped_column(Integer)
    warmup: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # {start, from, step}
    signature: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))  # the user who sends from it
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MailboxLink(Base):
    """Whether a mailbox could be reached lately, per direction (`smtp` out, `imap` in).

    One row per (mailbox, direction), written by every poll and every send batch: the last
    success, since when it has been failing (None while it works), the last error with its
    kind and fix, and a failure counter that only grows (a Prometheus counter).
    """

    __tablename__ = "mailbox_links"
    __table_args__ = (UniqueConstraint("mailbox_id", "direction"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    direction: Mapped[str] = mapped_column(String(8))  # "smtp" | "imap"
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
    failures_total: Mapped[int] = mapped_column(Integer, default=0)
    # True while this row's outage paused the mailbox's sending (lifted on the next success)
    paused_sending: Mapped[bool] = mapped_column(Boolean, default=False)

"""Sending mailboxes: the team's own addresses, with their SMTP/IMAP settings and caps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text
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

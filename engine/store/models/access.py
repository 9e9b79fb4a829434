"""API tokens: only a hash is stored; the token itself is shown once at creation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import JSONType, UTCDateTime


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, to recognise it in lists
    role: Mapped[str] = mapped_column(String(16))  # sdr | growth | manager | admin
    owner: Mapped[str | None] = mapped_column(String(200))  # the SDR a `sdr` token acts as
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class User(Base):
    """A person on the team: an SDR who owns prospects and mailboxes, a manager, an admin.

    `name` is the handle everything refers to (prospect and enrollment owners, tokens,
    mailboxes); an import's owner column is matched to it by email, full name or alias.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    aliases: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    role: Mapped[str] = mapped_column(String(16))  # sdr | growth | manager | admin
    booking_link: Mapped[str | None] = mapped_column(String(500))  # for templates
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

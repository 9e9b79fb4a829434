"""Prospects, the accounts (companies) they belong to, and suppressions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import JSONType, UTCDateTime


class Account(Base):
    """A company, keyed by its email domain (never a free-mail domain)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Prospect(Base):
    """One person. `email_key` (normalised, lower-cased) makes two spellings one person."""

    __tablename__ = "prospects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))  # as normalised; None once erased
    email_key: Mapped[str] = mapped_column(
        String(320), unique=True
    )  # lower-case, or hash if erased
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA name
    # Where the zone came from: "Timezone column", "region US-CA", "main zone of ES"…
    timezone_source: Mapped[str | None] = mapped_column(String(80))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    region: Mapped[str | None] = mapped_column(String(16))  # subdivision code, e.g. BY
    custom: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    owner: Mapped[str | None] = mapped_column(String(200))  # the SDR who works this prospect
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Suppression(Base):
    """Never email this address (kind=email) or anyone at this domain (kind=domain).

    `value_hash` (sha256 of the normalised value) is what send-time checks use, so the
    record keeps working after the prospect's data is erased and `value` is cleared.
    """

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("kind", "value_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | domain
    value: Mapped[str | None] = mapped_column(String(320))
    value_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))  # hard_bounce, unsubscribe, complaint, manual…
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(64))  # cli, api, inbound:<id>, erasure
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


Index("ix_prospects_owner", Prospect.owner)

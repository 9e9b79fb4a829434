"""Sending domains, their DKIM keys and their DNS check results; workspace policy documents.

A private key is never stored here: `key_file` names a file under KADENZ_HOME (mode 0600) or
given by the operator, `key_env` names an environment variable holding the PEM.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models.base import Base
from engine.store.types import JSONType, UTCDateTime


class SendingDomain(Base):
    """A domain we send from: its last DNS check and whether a person overrode a failure."""

    __tablename__ = "sending_domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    check_status: Mapped[str] = mapped_column(String(16), default="unchecked")  # ok|warning|fail
    check_findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    override_reason: Mapped[str | None] = mapped_column(Text)  # send despite failed checks
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DkimKey(Base):
    """One selector's key. States: pending (published, not signing) → active → retired."""

    __tablename__ = "dkim_keys"
    __table_args__ = (UniqueConstraint("domain_id", "selector"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("sending_domains.id"))
    selector: Mapped[str] = mapped_column(String(63))
    state: Mapped[str] = mapped_column(String(16))
    key_file: Mapped[str | None] = mapped_column(String(1000))
    key_env: Mapped[str | None] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(Text)  # base64 SubjectPublicKeyInfo, the DNS p=
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkspacePolicy(Base):
    """A named policy document pushed from a file (e.g. `consent`), newest wins."""

    __tablename__ = "workspace_policies"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    source: Mapped[str] = mapped_column(Text)  # the file as pushed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

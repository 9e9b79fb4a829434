"""Suppression: who must never be emailed. Checked at send time, inside the send transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.services import events
from engine.store.models import Suppression


def find(session: Session, email: str) -> Suppression | None:
    """The suppression that forbids emailing `email` (its address or its domain), if any."""
    key = addresses.key_of(email)
    email_hash = addresses.value_hash("email", key)
    domain_hash = addresses.value_hash("domain", addresses.domain_of(key))
    stmt = select(Suppression).where(
        or_(
            (Suppression.kind == "email") & (Suppression.value_hash == email_hash),
            (Suppression.kind == "domain") & (Suppression.value_hash == domain_hash),
        )
    )
    return session.scalars(stmt.limit(1)).first()


def add(
    session: Session,
    target: str,
    *,
    reason: str,
    at: datetime,
    source: str | None = None,
    note: str | None = None,
) -> Suppression:
    """Suppress an address or, written `@domain`, a whole domain. Idempotent."""
    kind, value = (
        ("domain", target.strip().lstrip("@").lower())
        if target.strip().startswith("@")
        else ("email", addresses.key_of(target))
    )
    value_hash = addresses.value_hash(kind, value)
    existing = session.scalars(
        select(Suppression).where(Suppression.kind == kind, Suppression.value_hash == value_hash)
    ).first()
    if existing is not None:
        return existing
    row = Suppression(
        kind=kind,
        value=value,
        value_hash=value_hash,
        reason=reason,
        source=source,
        note=note,
        created_at=at,
    )
    session.add(row)
    session.flush()
    events.record(session, EventType.SUPPRESSED, at, data={"kind": kind, "reason": reason})
    return row

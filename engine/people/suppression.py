"""Suppression: who must never be emailed. Checked at send time, inside the send transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.errors import Conflict, InvalidInput, NotFound
from engine.people import lifecycle
from engine.store import event_log as events
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


def parse_target(target: str) -> tuple[str, str]:
    """("email", key) or, for `@domain`, ("domain", domain); refuses what is neither."""
    text = target.strip()
    if text.startswith("@"):
        domain = text.lstrip("@").lower()
        if not domain or "." not in domain or any(c in domain for c in " @/\r\n"):
            raise InvalidInput(f"{target!r} is not a domain (write it as @acme.example)")
        return "domain", domain
    try:
        return "email", addresses.normalise(text).key
    except addresses.InvalidAddress as exc:
        raise InvalidInput(
            f"{target!r} is not a valid email ({exc}); write a domain as @acme.example"
        ) from None


def suppress(
    session: Session,
    target: str,
    *,
    reason: str,
    at: datetime,
    source: str | None = None,
    note: str | None = None,
) -> tuple[Suppression, int]:
    """Add a suppression and stop the live enrollments it covers, in this transaction.

    Returns the suppression and how many enrollments were stopped.
    """
    kind, value = parse_target(target)
    row = add(
        session,
        "@" + value if kind == "domain" else value,
        reason=reason,
        at=at,
        source=source,
        note=note,
    )
    stopped = lifecycle.stop_for_address(
        session, kind=kind, value=value, reason=f"suppressed: {reason}", at=at
    )
    return row, stopped


def list_all(session: Session, *, limit: int | None = None) -> Sequence[Suppression]:
    stmt = select(Suppression).order_by(Suppression.created_at, Suppression.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all()


def remove(session: Session, target: str, *, at: datetime) -> Suppression:
    """Lift a suppression. Erasure suppressions stay: they are the only trace of a request."""
    kind, value = parse_target(target)
    row = session.scalars(
        select(Suppression).where(
            Suppression.kind == kind,
            Suppression.value_hash == addresses.value_hash(kind, value),
        )
    ).first()
    if row is None:
        raise NotFound(f"{target.strip()!r} is not suppressed (see: kadenz suppress list)")
    if row.reason == "erased":
        raise Conflict(
            f"{target.strip()!r} was erased on request (GDPR); that suppression cannot be lifted"
        )
    session.delete(row)
    events.record(session, EventType.UNSUPPRESSED, at, data={"kind": kind, "reason": row.reason})
    return row

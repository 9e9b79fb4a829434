"""GDPR erasure: forget a person's data, keep only ids and a hashed suppression.

After erasure the prospect row stays (ids in events and reports still join), but its email,
names, phone and custom fields are gone, `email_key` is a hash (the unique constraint holds
and a re-import cannot bring the data back), message bodies to and from them are blanked,
their live enrollments are stopped and the address stays suppressed by hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.people import lifecycle, prospects
from engine.store import event_log as events
from engine.store.models import (
    Event,
    InboundMessage,
    OutboundMessage,
    Prospect,
    Suppression,
    Task,
)

ERASED = "erased"
# Event data keys that may carry personal data; ids and reasons are kept.
_PERSONAL_KEYS = frozenset(
    {"email", "address", "to", "from", "to_address", "from_address", "name", "subject", "phone"}
)


@dataclass(frozen=True, slots=True)
class ErasureResult:
    prospect_id: int
    enrollments_stopped: int
    outbound_blanked: int
    inbound_blanked: int


def erase(session: Session, email: str, *, at: datetime) -> ErasureResult:
    """Erase the person with this address. NotFound if unknown (or already erased)."""
    prospect = prospects.get(session, email)
    key = prospect.email_key
    stopped = lifecycle.stop_all_for_prospect(session, prospect.id, reason=ERASED, at=at)

    email_hash = addresses.value_hash("email", key)
    suppression = session.scalars(
        select(Suppression).where(Suppression.kind == "email", Suppression.value_hash == email_hash)
    ).first()
    if suppression is None:
        session.add(
            Suppression(
                kind="email",
                value=None,
                value_hash=email_hash,
                reason=ERASED,
                source="erasure",
                created_at=at,
            )
        )
        events.record(
            session,
            EventType.SUPPRESSED,
            at,
            prospect_id=prospect.id,
            data={"kind": "email", "reason": ERASED},
        )
    else:  # keep the older suppression but forget the clear-text address
        suppression.value = None
        suppression.reason = ERASED
        suppression.note = None

    outbound = _count(
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.prospect_id == prospect.id)
            .values(to_address=ERASED, subject="", body_text="", body_html=None, headers={})
        )
    )
    inbound = _count(
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.prospect_id == prospect.id)
            .values(raw=b"", from_address=None, subject=None, evidence=[], recipients=[], data={})
        )
    )
    session.execute(
        update(Task).where(Task.prospect_id == prospect.id).values(title="(erased)", notes=None)
    )
    for event in session.scalars(select(Event).where(Event.prospect_id == prospect.id)):
        if event.data:
            scrubbed = _scrub(event.data, key)
            if scrubbed != event.data:
                event.data = scrubbed

    _forget(prospect, at)
    events.record(session, EventType.PROSPECT_ERASED, at, prospect_id=prospect.id)
    session.flush()
    return ErasureResult(prospect.id, stopped, outbound, inbound)


def _scrub(data: dict[str, Any], email_key: str) -> dict[str, Any]:
    """Event data without personal values: known keys, and any text naming the address."""
    return {
        k: "(erased)" if isinstance(v, str) and email_key in v.lower() else v
        for k, v in data.items()
        if k not in _PERSONAL_KEYS
    }


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _forget(prospect: Prospect, at: datetime) -> None:
    prospect.email_key = prospects.erased_key(prospect.email_key)
    prospect.email = None
    prospect.first_name = prospect.last_name = None
    prospect.company = prospect.title = prospect.phone = None
    prospect.timezone = prospect.country = prospect.region = None
    prospect.custom = {}
    prospect.erased_at = at
    prospect.updated_at = at

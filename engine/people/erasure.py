"""GDPR erasure: forget a person's data, keep only ids and a hashed suppression.

After erasure the prospect row stays (ids in events and reports still join), but its email,
names, phone and custom fields are gone, `email_key` is a hash (the unique constraint holds
and a re-import cannot bring the data back), message bodies to and from them are blanked,
their live enrollments are stopped and the address stays suppressed by hash.

Personal data reaches more than the prospect row, so erasure follows it everywhere it can be
(docs/security.md lists them): outbound messages (rendered bodies, errors that quote the
address), inbound mail (raw bytes, by prospect, enrollment, message or the bounced address),
tasks (titles, notes), events' data, and webhook deliveries — the pending ones are rewritten
before the retry loop can POST them, and the delivered ones' log copy is scrubbed too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.people import lifecycle, prospects
from engine.store import event_log as events
from engine.store.models import (
    Account,
    Enrollment,
    Event,
    InboundMessage,
    OutboundMessage,
    Prospect,
    Suppression,
    Task,
    WebhookDelivery,
)

ERASED = "erased"
SCRUBBED = "(erased)"
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

    needles = _needles(prospect)
    enrollment_ids = select(Enrollment.id).where(Enrollment.prospect_id == prospect.id)
    outbound_ids = select(OutboundMessage.id).where(OutboundMessage.prospect_id == prospect.id)
    outbound = _count(
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.prospect_id == prospect.id)
            .values(
                to_address=ERASED,
                subject="",
                body_text="",
                body_html=None,
                headers={},
                last_error=None,
                held_reason=None,
            )
        )
    )
    inbound = 0
    for message in session.scalars(
        select(InboundMessage).where(
            or_(
                InboundMessage.prospect_id == prospect.id,
                InboundMessage.enrollment_id.in_(enrollment_ids),
                InboundMessage.outbound_id.in_(outbound_ids),
                func.lower(InboundMessage.from_address) == key,
                _mentions(InboundMessage.recipients, key),
            )
        )
    ):
        inbound += 1
        # Their Message-ID names their domain; a hash still dedupes a second delivery.
        if not message.dedupe_key.startswith(ERASED):
            digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()
            message.dedupe_key = f"{ERASED}:{digest}"
        message.header_message_id = None
        message.raw, message.from_address, message.subject = b"", None, None
        message.evidence, message.recipients, message.data = [], [], {}
    session.execute(
        update(Task)
        .where(or_(Task.prospect_id == prospect.id, Task.enrollment_id.in_(enrollment_ids)))
        .values(title=SCRUBBED, notes=None)
    )
    for row in session.scalars(select(Enrollment).where(Enrollment.prospect_id == prospect.id)):
        if row.state_reason and _hits(row.state_reason, needles):
            row.state_reason = SCRUBBED
    # Events: the person's own, and any other that names the address (a refusal, a bounce).
    event_ids: set[int] = set()
    for event in session.scalars(
        select(Event).where(
            or_(
                Event.prospect_id == prospect.id,
                Event.enrollment_id.in_(enrollment_ids),
                _mentions(Event.data, key),
            )
        )
    ):
        event_ids.add(event.id)
        if event.data:
            scrubbed = _scrub(event.data, needles)
            if scrubbed != event.data:
                event.data = scrubbed
    _scrub_deliveries(session, prospect.id, event_ids, key, needles)

    account_id = prospect.account_id
    _forget(prospect, at)
    session.flush()
    _drop_lone_account(session, account_id)
    events.record(session, EventType.PROSPECT_ERASED, at, prospect_id=prospect.id)
    session.flush()
    return ErasureResult(prospect.id, stopped, outbound, inbound)


def _needles(prospect: Prospect) -> tuple[str, ...]:
    """The person's own values, lower-cased: any text holding one of them is theirs."""
    values = [
        prospect.email_key,
        prospect.email,
        prospect.first_name,
        prospect.last_name,
        " ".join(filter(None, (prospect.first_name, prospect.last_name))),
        prospect.company,
        prospect.phone,
        *(v for v in (prospect.custom or {}).values() if isinstance(v, str)),
    ]
    # Two letters match too much text to mean anything ("Al"); the address always counts.
    return tuple(sorted({v.strip().lower() for v in values if v and len(v.strip()) >= 3}))


def _hits(text: str, needles: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(n in low for n in needles)


def _scrub(data: Any, needles: tuple[str, ...]) -> Any:
    """Without personal values: known personal keys dropped, any text naming them replaced."""
    if isinstance(data, dict):
        return {k: _scrub(v, needles) for k, v in data.items() if k not in _PERSONAL_KEYS}
    if isinstance(data, list):
        return [_scrub(v, needles) for v in data]
    if isinstance(data, str) and _hits(data, needles):
        return SCRUBBED
    return data


def _mentions(column: Any, key: str) -> Any:
    """SQL: the column's text (JSON as text) names this address, case-insensitively."""
    return func.lower(cast(column, String)).contains(key, autoescape=True)


def _scrub_deliveries(
    session: Session, prospect_id: int, event_ids: set[int], key: str, needles: tuple[str, ...]
) -> None:
    """Rewrite the webhook payloads (pending, delivered and failed) that carry the person."""
    stmt = select(WebhookDelivery).where(_mentions(WebhookDelivery.payload, key))
    if event_ids:
        stmt = select(WebhookDelivery).where(
            or_(WebhookDelivery.event_id.in_(event_ids), _mentions(WebhookDelivery.payload, key))
        )
    for delivery in session.scalars(stmt):
        try:
            payload = json.loads(delivery.payload)
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        person = payload.get("prospect")
        if isinstance(person, dict) and person.get("id") == prospect_id:
            payload["prospect"] = {"id": prospect_id, "owner": person.get("owner"), "erased": True}
        scrubbed = _scrub(payload, needles)
        delivery.payload = json.dumps(scrubbed, sort_keys=True)
        if delivery.last_error and _hits(delivery.last_error, needles):
            delivery.last_error = SCRUBBED


def _drop_lone_account(session: Session, account_id: int | None) -> None:
    """A company account only this person belonged to names their employer: drop it."""
    if account_id is None:
        return
    others = session.scalar(
        select(func.count()).select_from(Prospect).where(Prospect.account_id == account_id)
    )
    if not others:
        session.execute(delete(Account).where(Account.id == account_id))


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _forget(prospect: Prospect, at: datetime) -> None:
    prospect.email_key = prospects.erased_key(prospect.email_key)
    prospect.email = None
    prospect.first_name = prospect.last_name = None
    prospect.company = prospect.title = prospect.phone = None
    prospect.timezone = prospect.country = prospect.region = None
    prospect.custom = {}
    prospect.account_id = None
    prospect.erased_at = at
    prospect.updated_at = at

"""Outgoing webhooks: events become signed HTTP POSTs, retried with exponential backoff.

`deliver_webhooks(db, clock)` is the whole job (the runner and a Celery beat task call it):
it turns new events into `webhook_deliveries` rows (the delivery log) and POSTs the due ones.
Signature: `X-Kadenz-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core.events import EventType
from engine.errors import InvalidInput, NotFound
from engine.store.db import Database
from engine.store.models import Event, Prospect, Sequence, Webhook, WebhookDelivery

KINDS = ("reply", "positive_reply", "bounce", "opt_out", "meeting_booked", "task_due")
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
TIMEOUT_SECONDS = 10.0

HttpPost = Callable[[str, bytes, dict[str, str]], int]


def kinds_of(event: Event) -> list[str]:
    """Which webhook kinds one event is (a positive reply is both reply and positive_reply)."""
    data = event.data or {}
    if event.type == EventType.REPLY_RECEIVED:
        return ["reply", "positive_reply"] if data.get("intent") == "positive" else ["reply"]
    if event.type in (EventType.BOUNCE_RECEIVED, EventType.MESSAGE_BOUNCED):
        return ["bounce"] if data.get("kind") in (None, "hard", "hard_bounce") else []
    if event.type in (EventType.UNSUBSCRIBED, EventType.COMPLAINT_RECEIVED):
        return ["opt_out"]
    if event.type == EventType.MEETING_BOOKED:
        return ["meeting_booked"]
    if event.type == EventType.TASK_CREATED:
        return ["task_due"]
    return []


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the MAC and refuse stale timestamps (replays)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or "v1" not in fields:
        return False
    timestamp = int(fields["t"])
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={fields['v1']}")


def add(session: Session, url: str, kinds: list[str], at: datetime) -> Webhook:
    if not url.startswith(("https://", "http://")):
        raise InvalidInput(f"webhook URL {url!r} must start with https:// (or http:// locally)")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise InvalidInput(
            f"--events {','.join(unknown) or '(none)'}: use some of {', '.join(KINDS)}"
        )
    last = session.scalar(select(func.max(Event.id))) or 0
    hook = Webhook(
        url=url,
        events=sorted(set(kinds)),
        secret="whsec_" + secrets.token_hex(24),
        active=True,
        last_event_id=last,
        created_at=at,
    )
    session.add(hook)
    session.flush()
    return hook


def deactivate(session: Session, webhook_id: int) -> None:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id} does not exist (see `kadenz webhook list`)")
    hook.active = False


def list_hooks(session: Session) -> list[tuple[Webhook, dict[str, int]]]:
    out = []
    for hook in session.scalars(select(Webhook).order_by(Webhook.id)):
        counts: dict[str, int] = {
            state: int(n)
            for state, n in session.execute(
                select(WebhookDelivery.state, func.count())
                .where(WebhookDelivery.webhook_id == hook.id)
                .group_by(WebhookDelivery.state)
            )
        }
        out.append((hook, counts))
    return out


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at 6 h."""
    delay: timedelta = BASE_DELAY * (2 ** max(0, attempts - 1))
    return min(delay, MAX_DELAY)


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    queued: int
    delivered: int
    retried: int
    failed: int


def deliver_webhooks(
    db: Database, clock: Clock, http_post: HttpPost | None = None, batch: int = 100
) -> DeliveryStats:
    """Queue deliveries for new events, then POST every due one. Safe to run concurrently."""
    post = http_post or _urllib_post
    with db.session() as session:
        queued = _enqueue(session, clock.now())
    delivered = retried = failed = 0
    with db.session() as session:
        stmt = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= clock.now()
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(batch)
        )
        if db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        hooks: dict[int, Webhook | None] = {}
        for delivery in session.scalars(stmt):
            hook = hooks.setdefault(delivery.webhook_id, session.get(Webhook, delivery.webhook_id))
            if hook is None or not hook.active:
                delivery.state, delivery.last_error = "failed", "webhook removed"
                failed += 1
                continue
            outcome = _attempt(delivery, hook, post, clock.now())
            delivered += outcome == "delivered"
            retried += outcome == "pending"
            failed += outcome == "failed"
    return DeliveryStats(queued, delivered, retried, failed)


def _attempt(delivery: WebhookDelivery, hook: Webhook, post: HttpPost, now: datetime) -> str:
    body = delivery.payload.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Kadenz-Webhooks/1",
        "X-Kadenz-Event": delivery.kind,
        "X-Kadenz-Delivery": str(delivery.id),
        "X-Kadenz-Signature": sign(hook.secret, int(now.timestamp()), body),
    }
    delivery.attempts += 1
    try:
        status = post(hook.url, body, headers)
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except Exception as exc:  # network errors are retried like HTTP errors
        status, error = 0, f"{type(exc).__name__}: {exc}"[:500]
    delivery.last_status = status or None
    delivery.last_error = error
    if error is None:
        delivery.state, delivery.delivered_at = "delivered", now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = "failed"
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    return delivery.state


def _enqueue(session: Session, now: datetime) -> int:
    stmt = select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    queued = 0
    for hook in session.scalars(stmt):
        new = list(
            session.scalars(
                select(Event).where(Event.id > hook.last_event_id).order_by(Event.id).limit(1000)
            )
        )
        for event in new:
            for kind in kinds_of(event):
                if kind in hook.events:
                    session.add(
                        WebhookDelivery(
                            webhook_id=hook.id,
                            event_id=event.id,
                            kind=kind,
                            payload=json.dumps(_payload(session, event, kind), sort_keys=True),
                            state="pending",
                            attempts=0,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
                    queued += 1
        if new:
            hook.last_event_id = new[-1].id
    return queued


def _payload(session: Session, event: Event, kind: str) -> dict[str, Any]:
    prospect = session.get(Prospect, event.prospect_id) if event.prospect_id else None
    sequence = session.get(Sequence, event.sequence_id) if event.sequence_id else None
    return {
        "kind": kind,
        "event_id": event.id,
        "event": event.type,
        "at": event.at.isoformat(),
        "prospect": None
        if prospect is None
        else {
            "id": prospect.id,
            "email": prospect.email,
            "first_name": prospect.first_name,
            "last_name": prospect.last_name,
            "company": prospect.company,
            "owner": prospect.owner,
        },
        "sequence": sequence.key if sequence else None,
        "step": event.step_id,
        "variant": event.variant,
        "enrollment_id": event.enrollment_id,
        "task_id": event.task_id,
        "inbound_id": event.inbound_id,
        "data": event.data or {},
    }


def _urllib_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)

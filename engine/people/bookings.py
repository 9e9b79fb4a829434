"""Meetings booked in a booking tool (Calendly, Cal.com, any other): verified, then recorded.

Each provider signs its webhook with a secret shared with us, as its own docs describe:

- Calendly: `Calendly-Webhook-Signature: t=<unix>,v1=<hex>` over `<t>.<raw body>`; `t`
  must be within 5 minutes of now;
- Cal.com: `X-Cal-Signature-256: <hex>` over the raw body; the signed `createdAt` must be
  within 5 minutes of now;
- any other tool (generic): `Kadenz-Signature: t=<unix>,v1=<hex>`, Calendly's scheme with
  our secret.

All are HMAC-SHA256, compared in constant time, over the raw request bytes (never a
re-serialised JSON). A booking is also recorded at most once per (provider, booking id), so
a replay inside the window changes nothing either.

`record_booking` matches the invitee's email to a prospect (any spelling), appends
`meeting.booked` (one per live enrollment, or one for the prospect) and stops the
enrollments whose sequence has `stop_on: [meeting_booked]`. An unknown invitee, a bad
signature or a stale timestamp change nothing and say why.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.core.states import LIVE_ENROLLMENT_STATES
from engine.errors import InvalidInput, KadenzError, NotFound
from engine.people import lifecycle
from engine.people.tasks import stops_on_meeting
from engine.store import event_log as events
from engine.store.models import Enrollment, Event, Prospect

TOLERANCE = timedelta(minutes=5)
PROVIDERS = ("calendly", "calcom", "generic")
MAX_BODY = 256 * 1024  # a booking notice is a few KB; anything near this is not one


class BadSignature(KadenzError):
    """The webhook is not signed with our secret, or is too old: nothing was recorded."""


@dataclass(frozen=True, slots=True)
class Booking:
    """What a provider's notice says: who booked, which booking, when the meeting is."""

    provider: str
    booking_id: str
    email: str
    start: str | None = None  # ISO 8601 as the provider wrote it
    ignored: str | None = None  # set when the notice is not a new booking (a cancellation…)


@dataclass(frozen=True, slots=True)
class Recorded:
    prospect: str
    stopped: int
    duplicate: bool


# --- signatures ----------------------------------------------------------------------------


def _hmac(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def _pairs(header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            out.setdefault(key.strip(), value.strip())
    return out


def _fresh(moment: datetime, now: datetime, what: str) -> None:
    if abs(now - moment) > TOLERANCE:
        raise BadSignature(
            f"{what} {moment.isoformat()} is more than {int(TOLERANCE.total_seconds() // 60)} "
            "minutes from now: refused as a possible replay (check the server's clock)"
        )


def verify_timestamped(secret: str, header: str | None, body: bytes, now: datetime) -> None:
    """`t=<unix>,v1=<hex>` over `<t>.<body>` (Calendly's scheme, and our generic one)."""
    fields = _pairs(header or "")
    if "t" not in fields or "v1" not in fields:
        raise BadSignature("the signature header is missing or not of the form t=…,v1=…")
    try:
        moment = datetime.fromtimestamp(int(fields["t"]), UTC)
    except (ValueError, OverflowError, OSError):
        raise BadSignature("the signature's timestamp t is not a Unix time") from None
    expected = _hmac(secret, fields["t"].encode() + b"." + body)
    if not hmac.compare_digest(expected, fields["v1"].lower()):
        raise BadSignature("the signature does not match (check the signing key)")
    _fresh(moment, now, "the signature's timestamp")


def verify_body(secret: str, header: str | None, body: bytes) -> None:
    """A hex HMAC-SHA256 of the raw body (Cal.com's `X-Cal-Signature-256`)."""
    given = (header or "").strip().lower().removeprefix("sha256=")
    if not given:
        raise BadSignature("the X-Cal-Signature-256 header is missing")
    if not hmac.compare_digest(_hmac(secret, body), given):
        raise BadSignature("the signature does not match (check the webhook secret)")


# --- payloads ------------------------------------------------------------------------------


def _json(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise InvalidInput(f"the body is larger than {MAX_BODY // 1024} KB: not a booking notice")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body is not a JSON object")
    return data


def _text(data: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, str) and data.strip() else None


def _require(value: str | None, field: str) -> str:
    if value is None:
        raise InvalidInput(f"{field} is missing from the notice; nothing recorded")
    return value


def parse_calendly(body: bytes) -> Booking:
    """`invitee.created`: payload.email, payload.uri (the invitee), scheduled_event.start_time."""
    data = _json(body)
    kind = _text(data, "event") or "?"
    payload = data.get("payload")
    booking_id = _require(_text(payload, "uri"), "payload.uri")
    email = _require(_text(payload, "email"), "payload.email")
    start = _text(payload, "scheduled_event", "start_time")
    ignored = None if kind == "invitee.created" else f"Calendly event {kind!r} is not a booking"
    return Booking("calendly", booking_id, email, start, ignored)


def parse_calcom(body: bytes, now: datetime) -> Booking:
    """`BOOKING_CREATED`: payload.uid, payload.attendees[0].email, payload.startTime."""
    data = _json(body)
    created = _require(_text(data, "createdAt"), "createdAt")
    try:
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"createdAt {created!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    _fresh(moment, now, "the notice's createdAt")
    kind = _text(data, "triggerEvent") or "?"
    payload = data.get("payload")
    attendees = payload.get("attendees") if isinstance(payload, dict) else None
    first = attendees[0] if isinstance(attendees, list) and attendees else None
    booking_id = _require(_text(payload, "uid"), "payload.uid")
    email = _require(_text(first, "email"), "payload.attendees[0].email")
    ignored = None if kind == "BOOKING_CREATED" else f"Cal.com trigger {kind!r} is not a booking"
    return Booking("calcom", booking_id, email, _text(payload, "startTime"), ignored)


def parse_generic(body: bytes) -> Booking:
    """Our own shape: {"email": …, "booking_id": …, "start": …, "source": …}."""
    data = _json(body)
    source = (_text(data, "source") or "generic").strip()[:40]
    return Booking(
        source,
        _require(_text(data, "booking_id"), "booking_id"),
        _require(_text(data, "email"), "email"),
        _text(data, "start"),
    )


# --- recording -----------------------------------------------------------------------------


def _seen(session: Session, prospect_id: int, booking: Booking) -> bool:
    rows = session.scalars(
        select(Event.data).where(
            Event.type == str(EventType.MEETING_BOOKED), Event.prospect_id == prospect_id
        )
    )
    return any(
        isinstance(d, dict)
        and d.get("booking_id") == booking.booking_id
        and d.get("by") == booking.provider
        for d in rows
    )


def record_booking(session: Session, booking: Booking, at: datetime) -> Recorded:
    """Record `meeting.booked` for the invitee's prospect and stop what `stop_on` says."""
    try:
        key = addresses.key_of(booking.email)
    except addresses.InvalidAddress:
        raise InvalidInput(f"{booking.email!r} is not an email address; nothing recorded") from None
    prospect = session.scalars(select(Prospect).where(Prospect.email_key == key)).first()
    if prospect is None:
        raise NotFound(
            f"no prospect with the email {booking.email!r}; nothing recorded "
            "(import them first, or check the booking form's email field)"
        )
    shown = prospect.email or key
    if _seen(session, prospect.id, booking):
        return Recorded(shown, 0, duplicate=True)
    live = session.scalars(
        select(Enrollment).where(
            Enrollment.prospect_id == prospect.id,
            Enrollment.state.in_([str(s) for s in LIVE_ENROLLMENT_STATES]),
        )
    ).all()
    data = {"by": booking.provider, "booking_id": booking.booking_id, "start": booking.start}
    if not live:
        events.record(session, EventType.MEETING_BOOKED, at, prospect_id=prospect.id, data=data)
    stopped = 0
    for enrollment in live:
        events.record(session, EventType.MEETING_BOOKED, at, enrollment=enrollment, data=data)
        if stops_on_meeting(session, enrollment):
            lifecycle.stop(
                session, enrollment, reason=f"meeting booked ({booking.provider})", at=at
            )
            stopped += 1
    return Recorded(shown, stopped, duplicate=False)

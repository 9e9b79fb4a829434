"""Booking tools tell Kadenz a prospect booked: Calendly, Cal.com and a generic signed hook.

Each request is signed the way its provider documents; a good one records `meeting.booked`
and stops the enrollment (`stop_on: [meeting_booked]`); a bad signature, a replay with an
old timestamp and an unknown invitee are refused with a clear error and change nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.api.app import create_app
from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.core.states import EnrollmentState
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Event
from tests.integration.sending.factory import BASIC_SPEC, build_world
from tests.support.web import TestClient

CALENDLY_KEY = "calendly-signing-key-for-tests"
CALCOM_SECRET = "calcom-secret-for-tests"
GENERIC_SECRET = "generic-secret-for-tests"
EMAIL = "p0@beta0.example"


@pytest.fixture
def client(db: Database, clock: VirtualClock, tmp_path: Any) -> TestClient:
    spec = {**BASIC_SPEC, "stop_on": ["reply", "meeting_booked"]}
    with db.session() as s:
        build_world(s, clock.now(), [EMAIL], spec=spec)
    settings = Settings(
        home=tmp_path,
        secret_key="test-secret",
        database_url=db.url,
        calendly_signing_key=CALENDLY_KEY,
        calcom_webhook_secret=CALCOM_SECRET,
        booking_webhook_secret=GENERIC_SECRET,
    )
    return TestClient(create_app(db, settings, clock))


def _sig(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def _calendly(
    clock: VirtualClock,
    email: str = EMAIL,
    *,
    event: str = "invitee.created",
    age: timedelta = timedelta(0),
    key: str = CALENDLY_KEY,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "event": event,
            "created_at": clock.now().isoformat(),
            "payload": {
                "email": email,
                "name": "P Zero",
                "uri": "https://api.calendly.com/scheduled_events/EV1/invitees/INV1",
                "scheduled_event": {"start_time": "2026-03-05T10:00:00.000000Z"},
            },
        }
    ).encode()
    t = str(int((clock.now() - age).timestamp()))
    return body, {"Calendly-Webhook-Signature": f"t={t},v1={_sig(key, t.encode() + b'.' + body)}"}


def _calcom(clock: VirtualClock, *, age: timedelta = timedelta(0)) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "triggerEvent": "BOOKING_CREATED",
            "createdAt": (clock.now() - age).isoformat().replace("+00:00", "Z"),
            "payload": {
                "uid": "bk_7Hq2",
                "title": "Discovery call",
                "startTime": "2026-03-05T10:00:00Z",
                "attendees": [
                    {"email": EMAIL.upper(), "name": "P Zero", "timeZone": "Europe/Berlin"}
                ],
                "organizer": {"email": "anna@acme.example", "name": "Anna"},
            },
        }
    ).encode()
    return body, {"X-Cal-Signature-256": _sig(CALCOM_SECRET, body)}


def _state(db: Database) -> tuple[str, int]:
    with db.session() as s:
        enrollment = s.scalars(select(Enrollment)).one()
        meetings = s.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.type == str(EventType.MEETING_BOOKED))
        )
        return enrollment.state, meetings or 0


def test_a_signed_calendly_booking_stops_the_enrollment_once(
    client: TestClient, db: Database, clock: VirtualClock
) -> None:
    body, headers = _calendly(clock)
    r = client.post("/hooks/calendly", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "recorded": True,
        "duplicate": False,
        "prospect": EMAIL,
        "stopped_enrollments": 1,
    }
    assert _state(db) == (EnrollmentState.STOPPED, 1)
    with db.session() as s:
        event = s.scalars(select(Event).where(Event.type == str(EventType.MEETING_BOOKED))).one()
        assert event.data["by"] == "calendly" and event.data["start"].startswith("2026-03-05")
        assert s.scalars(select(Enrollment)).one().state_reason == "meeting booked (calendly)"
    # The same notice again (a retry or a replay inside the window) changes nothing.
    again = client.post("/hooks/calendly", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert _state(db) == (EnrollmentState.STOPPED, 1)


def test_a_signed_cal_com_booking_stops_the_enrollment(
    client: TestClient, db: Database, clock: VirtualClock
) -> None:
    body, headers = _calcom(clock)
    r = client.post("/hooks/calcom", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert _state(db) == (EnrollmentState.STOPPED, 1)


def test_the_generic_hook_takes_our_own_signature(
    client: TestClient, db: Database, clock: VirtualClock
) -> None:
    body = json.dumps(
        {"email": EMAIL, "booking_id": "hubspot-meet-1", "source": "hubspot"}
    ).encode()
    t = str(int(clock.now().timestamp()))
    headers = {"Kadenz-Signature": f"t={t},v1={_sig(GENERIC_SECRET, t.encode() + b'.' + body)}"}
    r = client.post("/hooks/booking", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert _state(db) == (EnrollmentState.STOPPED, 1)


@pytest.mark.parametrize(
    ("make", "status", "words"),
    [
        (lambda c: _calendly(c, key="someone-elses-key"), 401, "does not match"),
        (lambda c: _calendly(c, age=timedelta(minutes=20)), 401, "possible replay"),
        (lambda c: (_calendly(c)[0], {}), 401, "missing"),
        (lambda c: _calcom(c, age=timedelta(hours=2)), 401, "possible replay"),
        (lambda c: _calendly(c, "stranger@elsewhere.example"), 404, "no prospect with the email"),
    ],
    ids=["bad-signature", "old-timestamp", "unsigned", "old-cal-com-notice", "unknown-invitee"],
)
def test_refused_notices_change_nothing(
    client: TestClient, db: Database, clock: VirtualClock, make: Any, status: int, words: str
) -> None:
    body, headers = make(clock)
    path = "/hooks/calcom" if "X-Cal-Signature-256" in headers else "/hooks/calendly"
    r = client.post(path, content=body, headers=headers)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"] and "nothing recorded" in r.json()["detail"]
    assert _state(db) == (EnrollmentState.ACTIVE, 0)


def test_a_cancellation_is_acknowledged_not_recorded(
    client: TestClient, db: Database, clock: VirtualClock
) -> None:
    body, headers = _calendly(clock, event="invitee.canceled")
    r = client.post("/hooks/calendly", content=body, headers=headers)
    assert r.status_code == 202 and r.json()["recorded"] is False
    assert _state(db) == (EnrollmentState.ACTIVE, 0)


def test_an_unconfigured_hook_is_off_and_names_its_setting(
    db: Database, clock: VirtualClock, tmp_path: Any
) -> None:
    app = create_app(db, Settings(home=tmp_path, secret_key="x", database_url=db.url), clock)
    r = TestClient(app).post("/hooks/calcom", content=b"{}")
    assert r.status_code == 404 and "KADENZ_CALCOM_WEBHOOK_SECRET" in r.json()["detail"]

"""Booking tools tell us a prospect booked: POST /hooks/calendly, /hooks/calcom, /hooks/booking.

No bearer token: each request is authenticated by its provider's signature over the raw
body (engine.people.bookings). An endpoint whose secret is not configured answers 404 with
the setting to set, so a half-configured integration is never silently open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from engine.api import problems
from engine.api.state import AppState
from engine.errors import KadenzError, NotFound
from engine.people import bookings

router = APIRouter(prefix="/hooks", tags=["booking webhooks"])
# Checks a request's signature and reads its booking: (secret, headers, body, now) -> Booking.
Verifier = Callable[[str, Headers, bytes, datetime], bookings.Booking]


async def _receive(
    request: Request,
    secret_setting: str,
    verify_and_parse: Callable[[str, Headers, bytes, datetime], bookings.Booking],
) -> JSONResponse:
    st: AppState = request.app.state.kadenz
    secret = getattr(st.settings, secret_setting)
    if not secret:
        env = "KADENZ_" + secret_setting.upper()
        return problems.problem(404, f"this webhook is off: set {env} to its signing secret")
    body = await request.body()
    now = st.clock.now()
    try:
        booking = verify_and_parse(secret, request.headers, body, now)
    except bookings.BadSignature as exc:
        return problems.problem(401, f"{exc}; nothing recorded")
    except KadenzError as exc:
        return problems.problem(422, str(exc))
    if booking.ignored:
        return JSONResponse({"recorded": False, "ignored": booking.ignored}, status_code=202)

    def record() -> bookings.Recorded:
        with st.db.session() as session:
            return bookings.record_booking(session, booking, now)

    try:
        done = await run_in_threadpool(record)
    except NotFound as exc:
        return problems.problem(404, str(exc))
    except KadenzError as exc:
        return problems.problem(422, str(exc))
    return JSONResponse(
        {
            "recorded": not done.duplicate,
            "duplicate": done.duplicate,
            "prospect": done.prospect,
            "stopped_enrollments": done.stopped,
        }
    )


def _calendly(secret: str, headers: Headers, body: bytes, now: datetime) -> bookings.Booking:
    bookings.verify_timestamped(secret, headers.get("calendly-webhook-signature"), body, now)
    return bookings.parse_calendly(body)


def _calcom(secret: str, headers: Headers, body: bytes, now: datetime) -> bookings.Booking:
    bookings.verify_body(secret, headers.get("x-cal-signature-256"), body)
    return bookings.parse_calcom(body, now)


def _generic(secret: str, headers: Headers, body: bytes, now: datetime) -> bookings.Booking:
    bookings.verify_timestamped(secret, headers.get("kadenz-signature"), body, now)
    return bookings.parse_generic(body)


@router.post("/calendly", summary="Calendly invitee.created → meeting.booked")
async def calendly(request: Request) -> JSONResponse:
    return await _receive(request, "calendly_signing_key", _calendly)


@router.post("/calcom", summary="Cal.com BOOKING_CREATED → meeting.booked")
async def calcom(request: Request) -> JSONResponse:
    return await _receive(request, "calcom_webhook_secret", _calcom)


@router.post("/booking", summary="Any booking tool, signed like Calendly with our secret")
async def booking(request: Request) -> JSONResponse:
    return await _receive(request, "booking_webhook_secret", _generic)

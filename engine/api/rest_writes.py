"""REST writes that reuse the prospects, enrollment and erasure services (no reimplementation).

Prospects are imported through `engine.people.prospects.import_source`: the JSON objects
become CSV records in memory with each column's target given as a data structure (never a
`--map` string built from user-supplied names, never a temporary file), so the API validates
and upserts exactly like the CLI. An SDR token acts as its owner: another SDR's prospect is
refused, never updated or taken over.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import object_session
from starlette.concurrency import run_in_threadpool

from engine.api.auth import require
from engine.api.state import AppState
from engine.errors import NotFound
from engine.people import consent, consent_records, enrollment, erasure, field_map, prospects
from engine.people.csv_import import CsvSource
from engine.people.field_map import PROSPECT_COLUMNS, Target
from engine.store.models import Enrollment, SequenceVersion
from engine.workspace.tokens import Principal

router = APIRouter(prefix="/api/v1")

MAX_BULK = 10_000


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kadenz
    return state


class ProspectIn(BaseModel):
    email: str = Field(..., min_length=3, max_length=320)
    first_name: str | None = Field(None, max_length=200)
    last_name: str | None = Field(None, max_length=200)
    company: str | None = Field(None, max_length=255)
    title: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=64)
    timezone: str | None = Field(None, max_length=64, description="IANA name, e.g. Europe/Berlin")
    country: str | None = Field(None, max_length=64)
    region: str | None = Field(None, max_length=16)
    owner: str | None = Field(None, max_length=200)
    consent_source: str | None = Field(
        None, max_length=200, description="where consent to be emailed was given (compliance)"
    )
    consent_date: str | None = Field(
        None, max_length=10, description="when it was given, YYYY-MM-DD (compliance)"
    )
    custom: dict[str, str] = Field(default_factory=dict, description="custom template fields")


class ProspectsIn(BaseModel):
    prospects: list[ProspectIn] = Field(..., min_length=1, max_length=MAX_BULK)


def _source(items: list[ProspectIn], forced_owner: str | None) -> CsvSource:
    """The items as CSV records; each column's target is set here, not parsed from a header."""
    custom_names = sorted({k for p in items for k in p.custom})
    targets = [Target(c) for c in PROSPECT_COLUMNS] + [
        Target(None, field_map.snake_case(n)) for n in custom_names
    ]
    headers = [*PROSPECT_COLUMNS, *(f"custom {i}" for i in range(len(custom_names)))]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for p in items:
        values = p.model_dump()
        if forced_owner is not None:
            values["owner"] = forced_owner
        writer.writerow(
            [values.get(c) or "" for c in PROSPECT_COLUMNS]
            + [p.custom.get(n, "") for n in custom_names]
        )
    return CsvSource(Path("request"), buffer.getvalue(), "utf-8", ",", headers, targets)


def _import(st: AppState, items: list[ProspectIn], forced_owner: str | None) -> dict[str, Any]:
    report = prospects.import_source(
        st.db, _source(items, forced_owner), clock=st.clock, acting_for=forced_owner
    )
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        # Row 2 of the CSV is item 0 of the request.
        "refused": [
            {"index": i.row - 2, "field": i.column, "message": i.message, "fix": i.fix}
            for i in report.refused
        ],
        "warnings": [
            {"index": i.row - 2, "field": i.column, "message": i.message} for i in report.warnings
        ],
    }


@router.post("/prospects", tags=["prospects"], summary="Create or update (upsert) prospects")
async def upsert_prospects(
    request: Request, body: ProspectsIn, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    """Bulk JSON import: each item is created, or updated when the address is known (one
    person, one prospect). Bad items are refused one by one with their index and field."""
    forced = who.owner if who.role == "sdr" else None
    return await run_in_threadpool(_import, _state(request), body.prospects, forced)


class ConsentIn(BaseModel):
    source: str = Field(..., min_length=1, max_length=200, examples=["webinar-2026-03"])
    date: str | None = Field(
        None, description="YYYY-MM-DD; default: today", examples=["2026-03-12"]
    )


def _own_prospect(s: Any, who: Principal, email: str) -> None:
    """Another SDR's prospect answers as if it did not exist (nothing of theirs changes)."""
    found = prospects.get(s, email)
    if who.role == "sdr" and found.owner != who.owner:
        raise NotFound(f"no prospect with the email {email!r}")


@router.put("/prospects/{email}/consent", tags=["prospects"], summary="Record consent")
def record_consent(
    request: Request, email: str, body: ConsentIn, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    """Record that the prospect consented to be emailed (docs/compliance.md); emails held
    for missing consent go at the next send round. An SDR token: own prospects only."""
    st = _state(request)
    now = st.clock.now()
    given = consent.parse_date(body.date, "date") if body.date else now.date()
    with st.db.session() as s:
        _own_prospect(s, who, email)
        p = consent_records.record(s, email, source=body.source, given=given, at=now)
        return {"email": p.email, "consent_source": p.consent_source, "consent_date": str(given)}


@router.delete("/prospects/{email}/consent", tags=["prospects"], summary="Withdraw consent")
def withdraw_consent(
    request: Request, email: str, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        _own_prospect(s, who, email)
        p = consent_records.record(s, email, source=None, given=None, at=st.clock.now())
        return {"email": p.email, "consent_source": None, "consent_date": None}


@router.delete("/prospects/{email}", tags=["prospects"], summary="Erase a prospect (GDPR)")
def erase_prospect(
    request: Request, email: str, _: Principal = Depends(require())
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        result = erasure.erase(s, email, at=st.clock.now())
        return {
            "prospect_id": result.prospect_id,
            "enrollments_stopped": result.enrollments_stopped,
            "outbound_blanked": result.outbound_blanked,
            "inbound_blanked": result.inbound_blanked,
        }


class EnrollIn(BaseModel):
    sequence: str = Field(..., min_length=1, max_length=100)
    emails: list[str] = Field(..., min_length=1, max_length=MAX_BULK)
    owner: str | None = Field(None, max_length=200)
    mailbox: str | None = Field(None, max_length=64)


@router.post("/enrollments", tags=["enrollments"], summary="Enroll prospects into a sequence")
def enroll(
    request: Request, body: EnrollIn, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    st = _state(request)
    owner = who.owner if who.role == "sdr" else body.owner
    with st.db.session() as s:
        result = enrollment.enroll(
            s,
            body.sequence,
            body.emails,
            at=st.clock.now(),
            owner=owner,
            mailbox=body.mailbox,
            enrolled_by=who.owner or who.name,
            acting_for=who.owner if who.role == "sdr" else None,
        )
        return {
            "sequence": result.sequence,
            "version": result.version,
            "enrolled": [{"email": e, "mailbox": m} for e, m in result.enrolled],
            "warnings": [
                {"email": r.email, "reason": r.reason, "fix": r.fix} for r in result.warnings
            ],
            "refused": [
                {"email": r.email, "reason": r.reason, "fix": r.fix} for r in result.refused
            ],
        }


class EnrollmentAction(BaseModel):
    email: str = Field(..., min_length=3, max_length=320)
    sequence: str = Field(..., min_length=1, max_length=100)
    reason: str | None = Field(None, max_length=500)
    until: datetime | None = Field(None, description="pause only: resume automatically then")


def _own(s: Any, who: Principal, body: EnrollmentAction) -> None:
    row: Enrollment = enrollment.find_enrollment(s, body.email, body.sequence)
    if who.role == "sdr" and row.owner != who.owner:
        raise NotFound(f"{body.email} is not enrolled in {body.sequence}")


def _enrollment_json(row: Enrollment) -> dict[str, Any]:
    session = object_session(row)
    version = session.get(SequenceVersion, row.version_id) if session is not None else None
    return {
        "id": row.id,
        "state": row.state,
        "version": version.version if version is not None else None,
        "reason": row.state_reason,
        "step": row.step_id,
        "next_run_at": row.next_run_at.isoformat() if row.next_run_at else None,
    }


@router.post("/enrollments/pause", tags=["enrollments"], summary="Pause an enrollment")
def pause(
    request: Request, body: EnrollmentAction, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        _own(s, who, body)
        row = enrollment.pause(
            s, body.email, body.sequence, at=st.clock.now(), reason=body.reason, until=body.until
        )
        return _enrollment_json(row)


@router.post("/enrollments/resume", tags=["enrollments"], summary="Resume a paused enrollment")
def resume(
    request: Request, body: EnrollmentAction, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        _own(s, who, body)
        return _enrollment_json(enrollment.resume(s, body.email, body.sequence, at=st.clock.now()))


@router.post("/enrollments/stop", tags=["enrollments"], summary="Stop an enrollment")
def stop(
    request: Request, body: EnrollmentAction, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        _own(s, who, body)
        row = enrollment.stop(s, body.email, body.sequence, at=st.clock.now(), reason=body.reason)
        return _enrollment_json(row)

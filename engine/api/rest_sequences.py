"""REST: a sequence's live enrollments (with the version each is on), migrating them, and the
controls over many at once (pause/resume/archive a sequence, bulk pause/resume/stop), and the
manual emails waiting for review.

The same services as `kadenz sequence migrate|pause|resume|archive` and `kadenz enrollment
pause|resume|stop` with filters; nothing here decides anything.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from engine.api.auth import require
from engine.api.state import AppState
from engine.core import addresses
from engine.errors import InvalidInput
from engine.outbound import forecast, migration, review
from engine.people import controls
from engine.store.models import Enrollment, Prospect, SequenceVersion
from engine.workspace import sequences
from engine.workspace.tokens import Principal

router = APIRouter(prefix="/api/v1")
MAX_LIMIT = 500


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kadenz
    return state


@router.get(
    "/sequences/{key}/enrollments",
    tags=["sequences"],
    summary="A sequence's enrollments, with the version each one is on",
)
def list_enrollments(
    request: Request,
    key: str,
    state: str | None = Query(None, description="Only this state, e.g. active or paused"),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=10**9),
    who: Principal = Depends(require("growth", "manager", "sdr")),
) -> dict[str, Any]:
    with _state(request).db.session() as s:
        sequence = sequences.get_sequence(s, key)
        stmt = (
            select(Enrollment, Prospect.email, SequenceVersion.version)
            .join(Prospect, Prospect.id == Enrollment.prospect_id)
            .join(SequenceVersion, SequenceVersion.id == Enrollment.version_id)
            .where(Enrollment.sequence_id == sequence.id)
            .order_by(Enrollment.id)
        )
        if state:
            stmt = stmt.where(Enrollment.state == state)
        if who.role == "sdr":
            stmt = stmt.where(Enrollment.owner == who.owner)
        rows = s.execute(stmt.offset(offset).limit(limit + 1)).all()
        current = s.get(SequenceVersion, sequence.current_version_id or -1)
        items = [
            {
                "id": e.id,
                "email": email,
                "state": e.state,
                "version": version,
                "step": e.step_id,
                "next_run_at": e.next_run_at.isoformat() if e.next_run_at else None,
                "owner": e.owner,
            }
            for e, email, version in rows[:limit]
        ]
    nxt = (
        str(request.url.include_query_params(limit=limit, offset=offset + limit))
        if len(rows) > limit
        else None
    )
    return {
        "current_version": current.version if current else None,
        "items": items,
        "next": nxt,
    }


class MigrateIn(BaseModel):
    to: int | None = Field(None, ge=1, description="Target version (default: the current one)")
    dry_run: bool = Field(False, description="Only say, per group, what would change")


@router.post(
    "/sequences/{key}/migrate",
    tags=["sequences"],
    summary="Migrate live enrollments to another version (as `kadenz sequence migrate`)",
    description="Groups of enrollments: where they are, where they go, what changes. "
    "Refused with 409 (nothing changed) when the step-id mapping is ambiguous.",
)
def migrate(
    request: Request,
    key: str,
    body: MigrateIn,
    _: Principal = Depends(require("growth")),
) -> dict[str, Any]:
    st = _state(request)
    run = migration.plan if body.dry_run else migration.migrate
    return run(st.db, key, body.to, st.clock.now()).as_json()


# --- controls ------------------------------------------------------------------------------


class PauseIn(BaseModel):
    reason: str | None = Field(None, max_length=500, description="Why (shown in explain)")


class ArchiveIn(BaseModel):
    stop_all: bool = Field(False, description="Also stop every live enrollment now")


def _result(key: str, action: str, result: controls.BulkResult) -> dict[str, Any]:
    return {
        "sequence": key,
        "action": action,
        "matched": result.matched,
        "changed": result.changed,
        "unchanged": result.unchanged,
    }


@router.post("/sequences/{key}/pause", tags=["sequences"], summary="Pause a whole sequence")
def pause_sequence(
    request: Request, key: str, body: PauseIn, _: Principal = Depends(require("growth"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        result = controls.pause_sequence(s, key, at=st.clock.now(), reason=body.reason)
        return _result(key, "pause", result)


@router.post("/sequences/{key}/resume", tags=["sequences"], summary="Resume a paused sequence")
def resume_sequence(
    request: Request, key: str, _: Principal = Depends(require("growth"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        return _result(key, "resume", controls.resume_sequence(s, key, at=st.clock.now()))


@router.post("/sequences/{key}/archive", tags=["sequences"], summary="Archive a sequence")
def archive_sequence(
    request: Request, key: str, body: ArchiveIn, _: Principal = Depends(require("growth"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        result = controls.archive_sequence(s, key, at=st.clock.now(), stop_all=body.stop_all)
        return _result(key, "archive", result)


class BulkIn(BaseModel):
    action: Literal["pause", "resume", "stop"]
    sequence: str | None = Field(None, max_length=100)
    owner: str | None = Field(None, max_length=200)
    domain: str | None = Field(None, max_length=255, description="company email domain")
    emails: list[str] | None = Field(None, max_length=10_000)
    reason: str | None = Field(None, max_length=500)


@router.post(
    "/enrollments/bulk",
    tags=["enrollments"],
    summary="Pause, resume or stop every live enrollment a filter matches",
    description="Filters combine (sequence, owner, company domain, addresses); at least one "
    "is required. An SDR token only touches its own enrollments.",
)
def bulk(
    request: Request, body: BulkIn, who: Principal = Depends(require("sdr", "growth"))
) -> dict[str, Any]:
    st = _state(request)
    emails = None
    if body.emails is not None:
        emails = tuple(_key(e, i) for i, e in enumerate(body.emails))
    owner = body.owner
    if who.role == "sdr":
        if body.owner not in (None, who.owner):
            raise InvalidInput(f"owner: an SDR token acts only on its own ({who.owner})")
        owner = who.owner
    which = controls.Filter(body.sequence, owner, body.domain, emails)
    now = st.clock.now()
    with st.db.session() as s:
        rows = controls.select_live(s, which)
        if body.action == "pause":
            result = controls.pause(s, rows, at=now, reason=body.reason or "paused (bulk, API)")
        elif body.action == "resume":
            rows = [r for r in rows if not controls.held_by_sequence(s, r)]
            result = controls.resume(s, rows, at=now)
        else:
            result = controls.stop(s, rows, at=now, reason=body.reason or "stopped (bulk, API)")
        return _result(body.sequence or "*", body.action, result)


def _key(email: str, index: int) -> str:
    try:
        return addresses.normalise(email).key
    except addresses.InvalidAddress as exc:
        raise InvalidInput(f"emails[{index}]: {email!r} is not an email address ({exc})") from None


# --- manual emails -------------------------------------------------------------------------


def _review_json(r: review.Review) -> dict[str, Any]:
    return {
        "id": r.id,
        "owner": r.owner,
        "sequence": r.sequence,
        "step": r.step,
        "to": r.to,
        "subject": r.subject,
        "body": r.body,
        "not_before": r.not_before.isoformat(),
    }


@router.get("/reviews", tags=["reviews"], summary="Manual emails waiting for review")
def list_reviews(
    request: Request,
    owner: str | None = Query(None, description="Only this SDR's (an SDR token: always its own)"),
    who: Principal = Depends(require("sdr", "manager")),
) -> list[dict[str, Any]]:
    with _state(request).db.session() as s:
        mine = who.owner if who.role == "sdr" else owner
        return [_review_json(r) for r in review.pending(s, owner=mine)]


class ReviewIn(BaseModel):
    action: Literal["save", "approve", "skip"] = Field(
        ..., description="save the edits only, approve (send), or skip (do not send)"
    )
    subject: str | None = Field(None, max_length=998)
    body: str | None = Field(None, max_length=100_000, description="Markdown-ish text")


@router.post(
    "/reviews/{message_id}",
    tags=["reviews"],
    summary="Edit, approve or skip a manual email (as `kadenz review`)",
)
def act_on_review(
    request: Request,
    body: ReviewIn,
    message_id: int = Path(..., ge=1, le=2**31 - 1),
    who: Principal = Depends(require("sdr")),
) -> dict[str, Any]:
    st = _state(request)
    by = who.owner or who.name
    owner = who.owner if who.role == "sdr" else None
    now = st.clock.now()
    with st.db.session() as s:
        if body.subject is not None or body.body is not None:
            review.edit(s, message_id, at=now, by=by, subject=body.subject, body=body.body,
                        owner=owner)  # fmt: skip
        if body.action == "approve":
            return _review_json(review.approve(s, message_id, at=now, by=by, owner=owner))
        if body.action == "skip":
            return _review_json(review.skip(s, message_id, at=now, by=by, owner=owner))
        return _review_json(review.get(s, message_id, owner=owner))


@router.get(
    "/forecast",
    tags=["reports"],
    summary="What the live set will send per mailbox and day (as `kadenz forecast`)",
)
def get_forecast(
    request: Request,
    days: int = Query(14, ge=1, le=90),
    _: Principal = Depends(require("manager", "growth")),
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        return forecast.forecast(s, st.clock.now(), days).as_json()

"""REST: a sequence's live enrollments (with the version each is on) and migrating them.

The same services as `kadenz sequence migrate` (engine.outbound.migration); nothing here
decides anything.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from engine.api.auth import require
from engine.api.state import AppState
from engine.outbound import migration
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

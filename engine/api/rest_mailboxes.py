"""REST: mailboxes' caps and warm-up ramps (the same service as `kadenz mailbox update`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from engine.api.auth import require
from engine.api.state import AppState
from engine.outbound.limits import warmup
from engine.store.models import Mailbox
from engine.workspace import mailboxes
from engine.workspace.tokens import Principal

router = APIRouter(prefix="/api/v1")


MAX = 1_000_000  # far above any sane cap, well inside every database's integer


class WarmupIn(BaseModel):
    start: date = Field(..., description="first day of the ramp", examples=["2026-03-02"])
    first: int = Field(
        ..., ge=1, le=MAX, alias="from", description="emails allowed on the first day"
    )
    step: int = Field(5, ge=1, le=MAX, description="emails added each day, up to daily_cap")


class CapsIn(BaseModel):
    daily_cap: int | None = Field(None, ge=1, le=MAX)
    hourly_cap: int | None = Field(None, ge=1, le=MAX)
    min_gap_seconds: int | None = Field(None, ge=0, le=MAX)
    per_domain_daily_cap: int | None = Field(
        None, ge=0, le=MAX, description="per recipient domain per rolling 24 h; 0 removes the cap"
    )
    warmup: WarmupIn | None = Field(None, description="a ramp; see clear_warmup to remove one")
    clear_warmup: bool = False


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kadenz
    return state


def _out(box: Mailbox, st: AppState) -> dict[str, Any]:
    now = st.clock.now()
    ramp = warmup.ramp_of(box, now)
    return {
        "name": box.name,
        "address": box.address,
        "paused": box.paused,
        "paused_reason": box.paused_reason,
        "daily_cap": box.daily_cap,
        "hourly_cap": box.hourly_cap,
        "min_gap_seconds": box.min_gap_seconds,
        "per_domain_daily_cap": box.per_domain_daily_cap,
        "warmup": box.warmup or None,
        "cap_today": ramp.today if ramp else box.daily_cap,
        "caps": warmup.caps_line(box, now),
        "ramp": [{"day": d.isoformat(), "cap": cap} for d, cap in ramp.schedule(now)]
        if ramp
        else [],
    }


@router.get("/mailboxes", tags=["mailboxes"], summary="Mailboxes with their caps today")
def list_mailboxes(request: Request, _: Principal = Depends(require("manager", "growth"))) -> Any:
    st = _state(request)
    with st.db.session() as s:
        return [_out(box, st) for box in mailboxes.list_all(s)]


@router.patch("/mailboxes/{name}", tags=["mailboxes"], summary="Change caps and warm-up")
def update_caps(
    request: Request, name: str, body: CapsIn, _: Principal = Depends(require())
) -> dict[str, Any]:
    """Only the fields given change. `per_domain_daily_cap: 0` removes that cap;
    `clear_warmup: true` removes the ramp."""
    st = _state(request)
    clear = set()
    if body.clear_warmup:
        clear.add("warmup")
    per_domain = body.per_domain_daily_cap
    if per_domain == 0:
        clear.add("per_domain_daily_cap")
        per_domain = None
    settings = mailboxes.MailboxSettings(
        daily_cap=body.daily_cap,
        hourly_cap=body.hourly_cap,
        min_gap_seconds=body.min_gap_seconds,
        per_domain_daily_cap=per_domain,
        warmup=mailboxes.Warmup(body.warmup.start, body.warmup.first, body.warmup.step)
        if body.warmup
        else None,
        clear=frozenset(clear),
    )
    with st.db.session() as s:
        box = mailboxes.update(s, name, settings)
        return _out(box, st)

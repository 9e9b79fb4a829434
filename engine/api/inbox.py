"""REST: the SDR inbox (/api/v1/inbox) and notes on prospects. SDRs see their own only."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from engine.api.auth import require
from engine.api.state import AppState
from engine.core import addresses
from engine.errors import NotFound
from engine.inbound import inbox, reclassify
from engine.store.models import Prospect
from engine.workspace.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["inbox"])


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kadenz
    return state


def _scope(who: Principal) -> str | None:
    """The owner an SDR token acts as; None (everyone) for managers and admins."""
    return who.owner if who.role == "sdr" else None


class ReplyIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=inbox.MAX_REPLY, description="plain text")
    key: str = Field(
        ...,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="idempotency key: the same key never sends a second answer",
    )


class ReclassifyIn(BaseModel):
    kind: Literal[
        "human_reply",
        "auto_reply",
        "hard_bounce",
        "soft_bounce",
        "blocked",
        "complaint",
        "delivered",
        "unclassified",
    ]
    intent: (
        Literal["positive", "negative", "unsubscribe_request", "referral", "question", "neutral"]
        | None
    ) = None
    return_date: date | None = None


class NoteIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=inbox.MAX_REPLY)


@router.get("/inbox", summary="Inbound mail that needs a person, newest first")
def list_inbox(
    request: Request,
    owner: str | None = Query(None, description="Whose (SDR tokens: always their own)"),
    include_handled: bool = Query(False, alias="all", description="Include handled ones"),
    limit: int = Query(50, ge=1, le=500),
    who: Principal = Depends(require("sdr", "manager")),
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        found = inbox.items(
            s, owner=_scope(who) or owner, include_handled=include_handled, limit=limit
        )
    return {"items": [i.as_dict() for i in found]}


@router.post("/inbox/{inbound_id}/done", summary="Take a message out of the inbox")
def mark_done(
    request: Request, inbound_id: int, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        row = inbox.mark_done(
            s, inbound_id, by=who.owner or who.name, at=st.clock.now(), owner=_scope(who)
        )
        return {"id": row.id, "handled_by": row.handled_by}


@router.post("/inbox/{inbound_id}/reply", summary="Answer in the thread (the send path sends it)")
async def reply(
    request: Request, inbound_id: int, body: ReplyIn, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    st = _state(request)

    def plan() -> dict[str, Any]:
        with st.db.session() as s:
            m = inbox.reply(
                s,
                st.settings,
                inbound_id,
                text=body.text,
                key=body.key,
                by=who.owner or who.name,
                at=st.clock.now(),
                owner=_scope(who),
            )
            return {"message_id": m.id, "to": m.to_address, "subject": m.subject, "state": m.state}

    return await run_in_threadpool(plan)


@router.post("/inbox/{inbound_id}/reclassify", summary="Correct the classification")
def reclassify_one(
    request: Request,
    inbound_id: int,
    body: ReclassifyIn,
    who: Principal = Depends(require("sdr", "manager")),
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:  # an SDR may only correct their own prospects' mail
        inbox.get(s, inbound_id, owner=_scope(who))
    result = reclassify.reclassify(
        st.db,
        st.clock,
        inbound_id,
        body.kind,
        intent=body.intent,
        return_date=body.return_date,
        by=who.owner or who.name,
    )
    return {
        "id": result.inbound_id,
        "before": result.before,
        "after": result.after,
        "undone": result.undone,
        "done": result.actions,
    }


@router.post("/prospects/{email}/notes", summary="Add a note to a prospect")
def add_note(
    request: Request, email: str, body: NoteIn, who: Principal = Depends(require("sdr"))
) -> dict[str, Any]:
    st = _state(request)
    with st.db.session() as s:
        _own_prospect(s, email, who)
        note = inbox.add_note(s, email, body.text, by=who.owner or who.name, at=st.clock.now())
        s.flush()
        return {"id": note.id, "author": note.author, "text": note.text}


def _own_prospect(s: Session, email: str, who: Principal) -> None:
    key = addresses.key_of(email)
    found = s.scalars(select(Prospect).where(Prospect.email_key == key)).first()
    if found is None or (who.role == "sdr" and found.owner != who.owner):
        raise NotFound(f"no prospect with the email {email!r}")

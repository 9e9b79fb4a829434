"""REST: the team (/api/v1/users). Managers read it; admins add and change users."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from engine.api.auth import require
from engine.api.state import AppState
from engine.people import users
from engine.store.models import User
from engine.workspace.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["users"])


class UserIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=63, description="handle, e.g. maria")
    email: str | None = Field(None, max_length=320)
    full_name: str | None = Field(None, max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=50)
    role: Literal["sdr", "growth", "manager", "admin"] = "sdr"
    booking_link: str | None = Field(None, max_length=500)


def _json(u: User) -> dict[str, Any]:
    return {
        "name": u.name,
        "full_name": u.full_name,
        "email": u.email,
        "aliases": list(u.aliases),
        "role": u.role,
        "booking_link": u.booking_link,
    }


@router.get("/users", summary="The team")
def list_users(request: Request, _: Principal = Depends(require("manager"))) -> dict[str, Any]:
    st: AppState = request.app.state.kadenz
    with st.db.session() as s:
        return {"items": [_json(u) for u in users.list_all(s)]}


@router.post("/users", summary="Add a user", status_code=201)
def add_user(
    request: Request, body: UserIn, _: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    st: AppState = request.app.state.kadenz
    with st.db.session() as s:
        user = users.add(
            s,
            body.name,
            at=st.clock.now(),
            email=body.email,
            full_name=body.full_name,
            aliases=body.aliases,
            role=body.role,
            booking_link=body.booking_link,
        )
        users.adopt(s, user)  # what was owned as "Maria Lopez" before she was a user
        return _json(user)

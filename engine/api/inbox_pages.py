"""Dashboard: the SDR inbox page — read, reclassify in one click, mark done, answer in thread."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.api import session
from engine.api.dashboard import SignedIn, render
from engine.api.state import AppState
from engine.errors import KadenzError, NotFound
from engine.inbound import inbox, reclassify
from engine.workspace.tokens import Principal

router = APIRouter(include_in_schema=False)

# One click: the classes and intents a person most often corrects to.
CORRECTIONS = (
    ("human_reply", "positive", "Interested"),
    ("human_reply", "negative", "Not interested"),
    ("human_reply", "question", "Question"),
    ("human_reply", "referral", "Referral"),
    ("human_reply", "unsubscribe_request", "Unsubscribe"),
    ("auto_reply", "", "Out of office"),
)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kadenz
    return state


def _refused(request: Request, who: Principal, message: str, status: int) -> Response:
    return render(request, "error.html", {"message": message}, who=who, status=status)


@router.get("/inbox", response_class=HTMLResponse, response_model=None)
def inbox_page(
    request: Request, who: SignedIn, owner: str | None = None, all: bool = False, note: str = ""
) -> Response:
    st = _state(request)
    scope = who.owner if who.role == "sdr" else (owner or None)
    with st.db.session() as s:
        items = inbox.items(s, owner=scope, include_handled=all)
    return render(
        request,
        "inbox.html",
        {
            "items": items,
            "owner": scope,
            "all": all,
            "note": note,
            "corrections": CORRECTIONS,
            "key": secrets.token_hex(8),  # one answer per page load, whatever the clicks
        },
        who=who,
    )


def _checked(request: Request, who: SignedIn, csrf: str) -> Response | None:
    st = _state(request)
    if not session.csrf_ok(st.secret, request.cookies.get(session.COOKIE), csrf):
        return _refused(request, who, "The form expired; reload the page.", 403)
    if who.role not in ("sdr", "admin"):
        return _refused(request, who, "Only SDRs and admins work the inbox.", 403)
    return None


@router.post("/inbox/{inbound_id}/{action}", response_model=None)
def inbox_action(
    request: Request,
    who: SignedIn,
    inbound_id: int,
    action: str,
    csrf: str = Form(""),
    text: str = Form(""),
    key: str = Form(""),
    correction: str = Form(""),
) -> Response:
    refused = _checked(request, who, csrf)
    if refused is not None:
        return refused
    st = _state(request)
    scope = who.owner if who.role == "sdr" else None
    by = who.owner or who.name
    try:
        if action == "done":
            with st.db.session() as s:
                inbox.mark_done(s, inbound_id, by=by, at=st.clock.now(), owner=scope)
            note = f"#{inbound_id} done"
        elif action == "reply":
            with st.db.session() as s:
                m = inbox.reply(
                    s,
                    st.settings,
                    inbound_id,
                    text=text,
                    key=key,
                    by=by,
                    at=st.clock.now(),
                    owner=scope,
                )
                note = f"answer to #{inbound_id} planned as message {m.id}; it goes out now"
        elif action == "reclassify":
            kind, _, intent = correction.partition(":")
            with st.db.session() as s:
                inbox.get(s, inbound_id, owner=scope)
            result = reclassify.reclassify(
                st.db, st.clock, inbound_id, kind, intent=intent or None, by=by
            )
            before = result.before + (f"/{result.before_intent}" if result.before_intent else "")
            after = result.after + (f"/{result.after_intent}" if result.after_intent else "")
            note = f"#{inbound_id}: {before} → {after}"
        else:
            return _refused(request, who, f"unknown action {action!r}", 404)
    except NotFound as exc:  # also another SDR's message: as if it did not exist
        return _refused(request, who, str(exc), 404)
    except KadenzError as exc:
        return _refused(request, who, str(exc), 409)
    return RedirectResponse("/inbox?" + urlencode({"note": note}), status_code=303)

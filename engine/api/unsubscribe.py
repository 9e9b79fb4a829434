"""RFC 8058 one-click unsubscribe. No cookies, no authentication, no redirects.

GET shows a confirmation page with a button (a form POSTing back to the same URL, so link
scanners that follow GETs unsubscribe no one); POST (a mail client's `List-Unsubscribe=One-Click`
or the button) unsubscribes at once. A token that does not verify writes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from engine.api import throttle
from engine.api.state import AppState
from engine.api.templating import render_page
from engine.inbound import unsubscribe as service

router = APIRouter(include_in_schema=False)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kadenz
    return state


def _throttled(request: Request) -> HTMLResponse | None:
    """Guessing tokens: after many invalid ones from one address, a pause (429)."""
    st = _state(request)
    wait = st.throttles.unsubscribe.retry_after(throttle.client_of(request), st.clock.now())
    if wait is None:
        return None
    page = _page(
        "Too many invalid links",
        f"Please try again in {wait} seconds. Nothing was changed.",
        status=429,
    )
    page.headers["Retry-After"] = str(wait)
    return page


def _invalid(request: Request) -> HTMLResponse:
    st = _state(request)
    st.throttles.unsubscribe.failed(throttle.client_of(request), st.clock.now())
    return _page(
        "This unsubscribe link is not valid",
        "The link was changed or is incomplete. Nothing was changed.",
        status=400,
    )


@router.get("/u/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> HTMLResponse:
    st = _state(request)
    refused = _throttled(request)
    if refused is not None:
        return refused
    with st.db.session() as s:
        found = service.lookup(s, st.secret, token)
        address = service.mask(found[1]) if found else None
    if found is None:
        return _invalid(request)
    return render_page("unsubscribe.html", {"address": address, "token": token, "done": None})


@router.post("/u/{token}", response_class=HTMLResponse)
async def one_click(request: Request, token: str) -> HTMLResponse:
    st = _state(request)
    refused = _throttled(request)
    if refused is not None:
        return refused
    await request.body()  # List-Unsubscribe=One-Click or the form; either means "yes"

    def run() -> service.Outcome:
        with st.db.session() as s:
            return service.unsubscribe(s, st.secret, token, st.clock.now(), via="link")

    outcome = await run_in_threadpool(run)
    if outcome.status == "invalid":
        return _invalid(request)
    if outcome.status == "already":
        return _page(
            "You are already unsubscribed",
            f"{outcome.address} will not receive further emails from us.",
        )
    return _page(
        "You are unsubscribed", f"{outcome.address} will not receive further emails from us."
    )


def _page(title: str, message: str, status: int = 200) -> HTMLResponse:
    return render_page(
        "unsubscribe.html", {"title": title, "message": message, "done": True}, status=status
    )

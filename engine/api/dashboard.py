"""Dashboard pages, rendered on the server (Jinja2 + inline SVG). Login with an API token."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from engine.api import charts, session, throttle
from engine.api.state import AppState
from engine.api.templating import render_page
from engine.errors import InvalidInput, KadenzError, NotFound
from engine.inbound import inbox
from engine.outbound import forecast, review
from engine.outbound.limits import warmup
from engine.people import controls, task_queue, users
from engine.reporting import activity, overview, reports, rollups
from engine.reporting import health as health_figures
from engine.store.models import (
    ApiToken,
    Enrollment,
    Mailbox,
    Prospect,
    Sequence,
    SequenceVersion,
)
from engine.workspace import tokens
from engine.workspace.tokens import Principal

router = APIRouter(include_in_schema=False)

# The buttons of a queue item: a call has call outcomes; any other task is simply done.
OUTCOME_LABELS = {
    "call": {
        "connected": "Connected",
        "voicemail": "Voicemail",
        "no_answer": "No answer",
        "meeting_booked": "Meeting booked",
        "skip": "Skip",
    },
    "*": {"done": "Done", "meeting_booked": "Meeting booked", "skip": "Skip"},
}


class LoginRequired(Exception):
    """No valid session cookie: every page answers with the login form (see `install`)."""


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kadenz
    return state


def _who(request: Request) -> Principal | None:
    st = _state(request)
    cookie = request.cookies.get(session.COOKIE)
    token_id = session.read_cookie(st.secret, cookie, st.clock.now())
    if token_id is None or cookie is None:
        return None
    with st.db.session() as s:
        row = s.get(ApiToken, token_id)
        if row is None or row.revoked_at is not None or session.is_revoked(s, cookie):
            return None
        return Principal(row.id, row.name, row.role, row.owner)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    who: Principal | None = None,
    public: bool = False,
    status: int = 200,
) -> HTMLResponse:
    st = _state(request)
    cookie = request.cookies.get(session.COOKIE)
    base = {
        "who": who,
        "public": public,
        "path": request.url.path,
        "csrf": session.csrf_token(st.secret, cookie) if cookie else "",
        "now": st.clock.now(),
    }
    return render_page(name, {**base, **context}, status=status)


def _signed_in(request: Request) -> Principal:
    who = _who(request)
    if who is None:
        raise LoginRequired
    return who


SignedIn = Annotated[Principal, Depends(_signed_in)]  # a page's `who`, or the login redirect


def _login_redirect(request: Request, _: Exception) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def install(app: FastAPI) -> None:
    """Mount the pages, and send anyone without a session to the login form."""
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.include_router(router)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"error": None, "next": _safe_next(next)}, public=True)


def _cross_site(request: Request) -> bool:
    """A browser's POST from another site (OWASP: verify the source origin). Browsers send
    `Origin` (and `Sec-Fetch-Site`) on every cross-site POST; a tool without them is not a
    browser that another site could drive."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        origin = "/".join(referer.split("/")[:3]) if referer else None
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != (request.headers.get("host") or "").lower()


@router.post("/login", response_model=None)
def login(request: Request, token: str = Form(""), next: str = Form("/")) -> Response:
    st = _state(request)
    if _cross_site(request):  # login CSRF: another site must not log you in as its token
        return render(
            request,
            "error.html",
            {"message": "Log in from this site's own login page."},
            public=True,
            status=403,
        )
    client, now = throttle.client_of(request), st.clock.now()
    wait = st.throttles.login.retry_after(client, now)
    if wait is not None:
        slow = render(
            request,
            "login.html",
            {"error": f"Too many wrong tokens; try again in {wait} s.", "next": _safe_next(next)},
            public=True,
            status=429,
        )
        slow.headers["Retry-After"] = str(wait)
        return slow
    with st.db.session() as s:
        who = tokens.authenticate(s, token.strip(), now)
        row = s.get(ApiToken, who.token_id) if who else None
        cookie = session.make_cookie(st.secret, row, now) if row else None
        bump = now
        while cookie is not None and row is not None and session.is_revoked(s, cookie):
            bump += timedelta(seconds=1)  # logged out this second: a fresh cookie, not that one
            cookie = session.make_cookie(st.secret, row, bump)
    if cookie is None:
        st.throttles.login.failed(client, now)
        return render(
            request,
            "login.html",
            {"error": "Unknown or revoked token.", "next": _safe_next(next)},
            public=True,
            status=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        session.COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        max_age=int(session.LIFETIME.total_seconds()),
        path="/",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, csrf: str = Form("")) -> Response:
    st = _state(request)
    if not session.csrf_ok(st.secret, request.cookies.get(session.COOKIE), csrf):
        return render(
            request,
            "error.html",
            {"message": "The form expired; reload the page."},
            status=403,
            public=True,
        )
    cookie = request.cookies.get(session.COOKIE) or ""
    token_id = session.read_cookie(st.secret, cookie, st.clock.now())
    if token_id is not None:  # server-side: this cookie is refused from now on, copies too
        with st.db.session() as s:
            session.revoke(s, cookie, token_id, st.clock.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(session.COOKIE, path="/")
    return response


def _safe_next(target: str) -> str:
    # Only local paths: never redirect a logged-in user to another site.
    return target if target.startswith("/") and not target.startswith("//") else "/"


_FILTER_FIELDS = ("since", "until", "dates", "sequence", "owner", "mailbox")


def _filters(request: Request) -> reports.ReportFilter:
    """The report filter a page's query string asks for (the same as `kadenz report`'s)."""
    q = request.query_params

    def day(name: str) -> date | None:
        text = (q.get(name) or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"{name}: {text!r} is not a date (use YYYY-MM-DD)") from None

    return reports.ReportFilter(
        since=day("since"),
        until=day("until"),
        dates=q.get("dates") or "event",
        **{name: (q.get(name) or "").strip() or None for name in ("sequence", "owner", "mailbox")},
    )


def _filter_options(s: Any) -> dict[str, list[str]]:
    directory = users.Directory.load(s)

    def as_user(raw: str) -> str:  # one entry per user, whatever spellings the rows hold
        found = directory.match(raw) if directory else None
        return found.name if found is not None else raw

    return {
        "sequences": list(s.scalars(select(Sequence.key).order_by(Sequence.key))),
        "mailboxes": list(s.scalars(select(Mailbox.name).order_by(Mailbox.name))),
        "owners": sorted(
            {as_user(o) for o in s.scalars(select(Enrollment.owner).distinct()) if o}
            | {as_user(o) for o in s.scalars(select(Prospect.owner).distinct()) if o}
        ),
    }


@router.get("/", response_class=HTMLResponse, response_model=None)
def overview_page(request: Request, who: SignedIn) -> Response:
    st = _state(request)
    try:
        filters = _filters(request)
    except KadenzError as exc:
        return render(request, "error.html", {"message": str(exc)}, who=who, status=422)
    rollups.refresh_rollups(st.db)
    with st.db.session() as s:
        try:
            report = reports.build_report(s, by="sequence", filters=filters)
        except KadenzError as exc:
            return render(request, "error.html", {"message": str(exc)}, who=who, status=422)
        weeks = overview.sends_per_week(s)
        options = _filter_options(s)
        calls = activity.build_activity(s, by="owner", filters=filters, now=st.clock.now())
    chart = charts.bar_chart(
        [w for w, _ in weeks], [n for _, n in weeks], title="Emails sent per week"
    )
    kept = {k: v for k, v in request.query_params.items() if k in _FILTER_FIELDS and v}
    csv_link = "/reports.csv?" + urlencode({"by": "sequence", **kept})
    return render(
        request,
        "overview.html",
        {
            "report": report,
            "chart": chart,
            "filters": filters,
            "options": options,
            "csv_link": csv_link,
            "activity": calls,
            "activity_csv": "/activity.csv?" + urlencode(kept),
        },
        who=who,
    )


@router.get("/activity.csv", response_model=None)
def activity_csv(request: Request, who: SignedIn) -> Response:
    """The overview's calls-and-tasks table as CSV, with the page's filters."""
    st = _state(request)
    try:
        filters = _filters(request)
        with st.db.session() as s:
            result = activity.build_activity(s, by="owner", filters=filters, now=st.clock.now())
    except KadenzError as exc:
        return render(request, "error.html", {"message": str(exc)}, who=who, status=422)
    return Response(
        result.as_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kadenz-activity.csv"'},
    )


@router.get("/reports.csv", response_model=None)
def report_csv(request: Request, who: SignedIn) -> Response:
    """The dashboard's tables as CSV, with the page's filters (the API's `format=csv`)."""
    st = _state(request)
    by = request.query_params.get("by") or "sequence"
    try:
        filters = _filters(request)
        rollups.refresh_rollups(st.db)
        with st.db.session() as s:
            result = reports.build_report(s, by=by, filters=filters)
    except KadenzError as exc:
        return render(request, "error.html", {"message": str(exc)}, who=who, status=422)
    return Response(
        result.as_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kadenz-report-{by}.csv"'},
    )


@router.get("/sequences/{key}", response_class=HTMLResponse, response_model=None)
def sequence_page(request: Request, who: SignedIn, key: str) -> Response:
    st = _state(request)
    rollups.refresh_rollups(st.db)
    with st.db.session() as s:
        seq = s.scalars(select(Sequence).where(Sequence.key == key)).first()
        if seq is None:
            return render(
                request, "error.html", {"message": f"No sequence {key!r}."}, who=who, status=404
            )
        version = s.get(SequenceVersion, seq.current_version_id) if seq.current_version_id else None
        order = [st_.get("id") for st_ in (version.spec.get("steps", []) if version else [])]
        by_step = reports.build_report(s, by="step", sequence=key)
        total = reports.build_report(s, by="sequence", sequence=key).total
        comparisons = reports.variant_comparisons(s, key)
        weeks = overview.sends_per_week(s, seq.id)
        by_version = overview.live_by_version(s, seq.id)
    rank = {step: i for i, step in enumerate(order) if step}
    steps = sorted(by_step.rows, key=lambda r: (rank.get(r.key[1], 999), r.group))
    funnel = charts.bar_chart(
        [r.key[1] or "-" for r in steps],
        [r.contacted for r in steps],
        title="Prospects emailed per step",
    )
    ci_charts = [
        (
            c,
            charts.interval_chart(
                c.comparison.variants, title=f"Reply rate by variant, step {c.step_id}"
            ),
        )
        for c in comparisons
    ]
    week_chart = charts.bar_chart(
        [w for w, _ in weeks], [n for _, n in weeks], title="Emails sent per week"
    )
    return render(
        request,
        "sequence.html",
        {
            "seq": seq,
            "version": version,
            "steps": steps,
            "total": total,
            "funnel": funnel,
            "comparisons": ci_charts,
            "week_chart": week_chart,
            "by_version": by_version,
        },
        who=who,
    )


@router.post("/sequences/{key}/control", response_model=None)
def sequence_control(
    request: Request,
    who: SignedIn,
    key: str,
    action: str = Form(...),
    reason: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """The pause/resume buttons of the sequence page (kadenz sequence pause|resume)."""
    st = _state(request)
    if not session.csrf_ok(st.secret, request.cookies.get(session.COOKIE), csrf):
        return render(
            request, "error.html", {"message": "The form expired; reload the page."}, who=who,
            status=403,
        )  # fmt: skip
    if who.role not in ("growth", "admin"):
        return render(
            request, "error.html", {"message": "Only growth and admins pause sequences."},
            who=who, status=403,
        )  # fmt: skip
    try:
        with st.db.session() as s:
            if action == "pause":
                controls.pause_sequence(s, key, at=st.clock.now(), reason=reason.strip() or None)
            elif action == "resume":
                controls.resume_sequence(s, key, at=st.clock.now())
            else:
                return render(
                    request, "error.html", {"message": f"Unknown action {action!r}."}, who=who,
                    status=400,
                )  # fmt: skip
    except KadenzError as exc:
        return render(request, "error.html", {"message": str(exc)}, who=who, status=409)
    return RedirectResponse(f"/sequences/{quote(key)}", status_code=303)


@router.get("/mailboxes", response_class=HTMLResponse, response_model=None)
def mailboxes_page(request: Request, who: SignedIn) -> Response:
    st = _state(request)
    rollups.refresh_rollups(st.db)
    now = st.clock.now()
    with st.db.session() as s:
        health = overview.mailbox_health(s, now)
        ahead = forecast.forecast(s, now, 14)
        caps = {h.mailbox.id: warmup.capacity_lines(s, now, h.mailbox.name) for h in health}
        domains = health_figures.domains(s)
        unsigned = health_figures.unsigned_domains(s)
    by_mailbox: dict[str, list[forecast.DayRow]] = {}
    for row in ahead.rows:
        by_mailbox.setdefault(row.mailbox, []).append(row)
    forecasts = [
        (
            name,
            rows,
            charts.bar_chart(
                [r.day.strftime("%a %d") for r in rows],
                [r.planned for r in rows],
                title=f"{name}: emails planned per day (cap {rows[0].cap})",
            ),
        )
        for name, rows in by_mailbox.items()
    ]
    return render(
        request,
        "mailboxes.html",
        {
            "health": health,
            "forecasts": forecasts,
            "caps": caps,
            "domains": domains,
            "unsigned": unsigned,
        },
        who=who,
    )


# Who sees the team page: the roles of GET /api/v1/users (docs/api.md).
TEAM_ROLES = ("manager", "admin")


@router.get("/users", response_class=HTMLResponse, response_model=None)
def users_page(request: Request, who: SignedIn) -> Response:
    """The team: each user's names, role, mailboxes, booking link and what they hold."""
    if who.role not in TEAM_ROLES:
        return render(
            request, "error.html", {"message": "Only managers and admins see the team."},
            who=who, status=403,
        )  # fmt: skip
    with _state(request).db.session() as s:
        members = users.team(s)
    return render(request, "users.html", {"members": members}, who=who)


@router.get("/queue", response_class=HTMLResponse, response_model=None)
def queue_page(
    request: Request, who: SignedIn, owner: str | None = None, done: int | None = None
) -> Response:
    st = _state(request)
    if who.role == "sdr":
        owner = who.owner
    with st.db.session() as s:
        items = task_queue.queue(s, st.clock.now(), owner=owner or None, tz=st.settings.zone)
        reviews = review.pending(s, owner=owner or None)
    return render(
        request,
        "queue.html",
        {
            "items": items,
            "reviews": reviews,
            "owner": owner,
            "outcomes": OUTCOME_LABELS,
            "done": done,
            "error": None,
        },
        who=who,
    )


@router.post("/reviews/{message_id}", response_model=None)
def review_action(
    request: Request,
    who: SignedIn,
    message_id: int,
    action: str = Form(...),
    subject: str = Form(""),
    body: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """The queue's review form: save the edits, approve (send) or skip a manual email."""
    st = _state(request)
    if not session.csrf_ok(st.secret, request.cookies.get(session.COOKIE), csrf):
        return render(
            request, "error.html", {"message": "The form expired; reload the page."}, who=who,
            status=403,
        )  # fmt: skip
    if who.role not in ("sdr", "admin") or action not in ("save", "approve", "skip"):
        return render(
            request, "error.html", {"message": "Only SDRs and admins review emails."}, who=who,
            status=403,
        )  # fmt: skip
    owner = who.owner if who.role == "sdr" else None
    by, now = who.owner or who.name, st.clock.now()
    try:
        with st.db.session() as s:
            if action != "skip":
                review.edit(s, message_id, at=now, by=by, subject=subject, body=body, owner=owner)
            if action == "approve":
                review.approve(s, message_id, at=now, by=by, owner=owner)
            elif action == "skip":
                review.skip(s, message_id, at=now, by=by, owner=owner)
    except NotFound as exc:  # also another SDR's email: as if it did not exist
        return render(request, "error.html", {"message": str(exc)}, who=who, status=404)
    except KadenzError as exc:
        return render(request, "error.html", {"message": str(exc)}, who=who, status=409)
    return RedirectResponse("/queue", status_code=303)


@router.post("/queue/{task_id}", response_model=None)
def queue_action(
    request: Request, who: SignedIn, task_id: int, outcome: str = Form(...), csrf: str = Form("")
) -> Response:
    st = _state(request)
    if not session.csrf_ok(st.secret, request.cookies.get(session.COOKIE), csrf):
        return render(
            request,
            "error.html",
            {"message": "The form expired; reload the page."},
            who=who,
            status=403,
        )
    if who.role not in ("sdr", "admin"):
        return render(
            request,
            "error.html",
            {"message": "Only SDRs and admins work the queue."},
            who=who,
            status=403,
        )
    try:
        with st.db.session() as s:
            task_queue.complete(
                s,
                task_id,
                outcome=outcome,
                at=st.clock.now(),
                by=who.owner or who.name,
                owner=who.owner if who.role == "sdr" else None,
            )
    except KadenzError as exc:
        status = 404 if isinstance(exc, NotFound) else 409  # another SDR's task: as if absent
        return render(request, "error.html", {"message": str(exc)}, who=who, status=status)
    return RedirectResponse(f"/queue?done={task_id}", status_code=303)


@router.get("/prospects", response_class=HTMLResponse, response_model=None)
def prospects_page(
    request: Request, who: SignedIn, offset: int = 0, owner: str | None = None
) -> Response:
    st = _state(request)
    with st.db.session() as s:
        stmt = select(Prospect).order_by(Prospect.id)
        if who.role == "sdr":
            stmt = stmt.where(Prospect.owner == who.owner)
        elif owner:
            stmt = stmt.where(Prospect.owner == owner)
        rows = list(s.scalars(stmt.offset(max(0, offset)).limit(101)))
    return render(
        request,
        "prospects.html",
        {
            "rows": rows[:100],
            "offset": offset,
            "more": len(rows) > 100,
            "owner": owner if who.role != "sdr" else None,
        },
        who=who,
    )


@router.get("/prospects/{prospect_id}", response_class=HTMLResponse, response_model=None)
def prospect_page(request: Request, who: SignedIn, prospect_id: int) -> Response:
    st = _state(request)
    with st.db.session() as s:
        tl = overview.timeline(s, prospect_id, st.clock.now())
        notes = [(n.created_at, n.author, n.text) for n in inbox.notes(s, prospect_id)]
    if tl is None or (who.role == "sdr" and tl.prospect.owner != who.owner):
        return render(
            request, "error.html", {"message": f"No prospect {prospect_id}."}, who=who, status=404
        )
    return render(request, "prospect.html", {"tl": tl, "notes": notes}, who=who)

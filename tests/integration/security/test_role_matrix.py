"""Issue 19 item 2: every role × every route × own/other's object, for the API and dashboard.

The routes come from the app's own route table: a route added without a row in MATRIX fails
`test_item02_every_route_has_a_row`. The API rows must say what docs/api.md's role table
says (`test_item02_docs_role_table_matches`). An SDR acts on their own objects (anna's) and
on another SDR's (ben's): the other's answer 404 or are refused, and nothing of theirs changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import Mount, Route

from engine.api import session as web_session
from engine.store.models import (
    Enrollment,
    InboundMessage,
    OutboundMessage,
    Prospect,
    Suppression,
    Task,
)
from tests.support.seed import Seeder
from tests.support.web import SECRET, SeededApp, TestClient

ROOT = Path(__file__).resolve().parents[3]
PRINCIPALS = ("anon", "sdr", "growth", "manager", "admin")


@dataclass(frozen=True)
class Row:
    """Expected outcome per principal: ok | 401 | 403 | 404 | login | refused.

    `sdr_other` is what an SDR gets on another SDR's object (None: the route has no object).
    """

    anon: str
    sdr: str
    growth: str
    manager: str
    admin: str
    sdr_other: str | None = None


API_ONLY_ADMIN = Row("401", "403", "403", "403", "ok")
PAGE = Row("login", "ok", "ok", "ok", "ok")
PUBLIC = Row("ok", "ok", "ok", "ok", "ok")

MATRIX: dict[tuple[str, str], Row] = {
    # REST API (docs/api.md)
    ("GET", "/api/v1/reports"): Row("401", "403", "403", "ok", "ok"),
    ("GET", "/api/v1/tasks"): Row("401", "ok", "403", "ok", "ok", sdr_other="ok"),
    ("POST", "/api/v1/tasks/{task_id}/complete"): Row(
        "401", "ok", "403", "403", "ok", sdr_other="404"
    ),
    ("GET", "/api/v1/prospects"): Row("401", "ok", "403", "ok", "ok"),
    ("GET", "/api/v1/prospects/{prospect_id}"): Row(
        "401", "ok", "403", "ok", "ok", sdr_other="404"
    ),
    ("POST", "/api/v1/prospects"): Row("401", "ok", "403", "403", "ok", sdr_other="refused"),
    ("DELETE", "/api/v1/prospects/{email}"): API_ONLY_ADMIN,
    ("POST", "/api/v1/enrollments"): Row("401", "ok", "403", "403", "ok", sdr_other="refused"),
    ("POST", "/api/v1/enrollments/pause"): Row("401", "ok", "403", "403", "ok", sdr_other="404"),
    ("POST", "/api/v1/enrollments/resume"): Row("401", "ok", "403", "403", "ok", sdr_other="404"),
    ("POST", "/api/v1/enrollments/stop"): Row("401", "ok", "403", "403", "ok", sdr_other="404"),
    ("GET", "/api/v1/sequences"): Row("401", "ok", "ok", "ok", "ok"),
    ("GET", "/api/v1/sequences/{key}/versions"): Row("401", "403", "ok", "ok", "ok"),
    ("POST", "/api/v1/sequences/validate"): Row("401", "403", "ok", "403", "ok"),
    ("GET", "/api/v1/suppressions"): API_ONLY_ADMIN,
    ("POST", "/api/v1/suppressions"): API_ONLY_ADMIN,
    ("DELETE", "/api/v1/suppressions/{suppression_id}"): API_ONLY_ADMIN,
    ("POST", "/api/v1/inbound"): API_ONLY_ADMIN,
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/metrics"): Row("401", "403", "403", "ok", "ok"),
    ("GET", "/api/v1/reports/activity"): Row("401", "403", "403", "ok", "ok"),
    ("GET", "/api/v1/forecast"): Row("401", "403", "ok", "ok", "ok"),
    ("GET", "/api/v1/reviews"): Row("401", "ok", "403", "ok", "ok", sdr_other="ok"),
    ("POST", "/api/v1/reviews/{message_id}"): Row("401", "ok", "403", "403", "ok", sdr_other="404"),
    ("PUT", "/api/v1/prospects/{email}/consent"): Row(
        "401", "ok", "403", "403", "ok", sdr_other="404"
    ),
    ("DELETE", "/api/v1/prospects/{email}/consent"): Row(
        "401", "ok", "403", "403", "ok", sdr_other="404"
    ),
    ("POST", "/api/v1/prospects/{email}/notes"): Row(
        "401", "ok", "403", "403", "ok", sdr_other="404"
    ),
    ("GET", "/api/v1/sequences/{key}/enrollments"): Row(
        "401", "ok", "ok", "ok", "ok", sdr_other="ok"
    ),
    ("POST", "/api/v1/sequences/{key}/migrate"): Row("401", "403", "ok", "403", "ok"),
    ("POST", "/api/v1/sequences/{key}/pause"): Row("401", "403", "ok", "403", "ok"),
    ("POST", "/api/v1/sequences/{key}/resume"): Row("401", "403", "ok", "403", "ok"),
    ("POST", "/api/v1/sequences/{key}/archive"): Row("401", "403", "ok", "403", "ok"),
    ("POST", "/api/v1/enrollments/bulk"): Row("401", "ok", "ok", "403", "ok", sdr_other="refused"),
    ("GET", "/api/v1/inbox"): Row("401", "ok", "403", "ok", "ok", sdr_other="ok"),
    ("POST", "/api/v1/inbox/{inbound_id}/done"): Row(
        "401", "ok", "403", "403", "ok", sdr_other="404"
    ),
    ("POST", "/api/v1/inbox/{inbound_id}/reply"): Row(
        "401", "ok", "403", "403", "ok", sdr_other="404"
    ),
    ("POST", "/api/v1/inbox/{inbound_id}/reclassify"): Row(
        "401", "ok", "403", "ok", "ok", sdr_other="404"
    ),
    ("GET", "/api/v1/mailboxes"): Row("401", "403", "ok", "ok", "ok"),
    ("PATCH", "/api/v1/mailboxes/{name}"): API_ONLY_ADMIN,
    ("GET", "/api/v1/users"): Row("401", "403", "403", "ok", "ok"),
    ("POST", "/api/v1/users"): API_ONLY_ADMIN,
    # Booking webhooks: no token, the provider's signature; off (404) without their secret,
    # and the seeded app configures none.
    ("POST", "/hooks/calendly"): Row("404", "404", "404", "404", "404"),
    ("POST", "/hooks/calcom"): Row("404", "404", "404", "404", "404"),
    ("POST", "/hooks/booking"): Row("404", "404", "404", "404", "404"),
    # Dashboard (docs/dashboard.md): signed-in pages; an SDR sees only their own prospects.
    ("GET", "/"): PAGE,
    ("GET", "/sequences/{key}"): PAGE,
    ("POST", "/sequences/{key}/control"): Row("login", "403", "ok", "403", "ok"),
    ("GET", "/reports.csv"): PAGE,
    ("GET", "/activity.csv"): PAGE,
    ("GET", "/inbox"): Row("login", "ok", "ok", "ok", "ok", sdr_other="ok"),
    ("POST", "/inbox/{inbound_id}/{action}"): Row(
        "login", "ok", "403", "403", "ok", sdr_other="404"
    ),
    ("POST", "/reviews/{message_id}"): Row("login", "ok", "403", "403", "ok", sdr_other="404"),
    ("GET", "/mailboxes"): PAGE,
    ("GET", "/users"): Row("login", "403", "403", "ok", "ok"),  # as GET /api/v1/users
    ("GET", "/queue"): Row("login", "ok", "ok", "ok", "ok", sdr_other="ok"),
    ("POST", "/queue/{task_id}"): Row("login", "ok", "403", "403", "ok", sdr_other="404"),
    ("GET", "/prospects"): Row("login", "ok", "ok", "ok", "ok", sdr_other="ok"),
    ("GET", "/prospects/{prospect_id}"): Row("login", "ok", "ok", "ok", "ok", sdr_other="404"),
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): Row("401", "401", "401", "401", "401"),  # a wrong token, for anyone
    # Logging out leads to the login page; anon has no session, so no CSRF token: 403.
    ("POST", "/logout"): Row("403", "login", "login", "login", "login"),
    # Public: unsubscribe (signed token), the OpenAPI description, static files.
    ("GET", "/u/{token}"): PUBLIC,
    ("POST", "/u/{token}"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/static"): PUBLIC,
}


def app_routes(web: SeededApp) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI's include_router
            if included is not None:
                walk(included.routes, prefix + route.include_context.prefix)
            elif isinstance(route, Mount):
                found.add(("GET", prefix + route.path))
            elif isinstance(route, APIRoute | Route):
                for method in route.methods or ():
                    if method != "HEAD":
                        found.add((method, prefix + route.path))
            else:
                raise AssertionError(f"a route of a kind this test does not know: {route!r}")

    walk(web.app.routes, "")
    return found


def test_item02_every_route_has_a_row(web: SeededApp) -> None:
    routes = app_routes(web)
    assert sorted(routes - MATRIX.keys()) == [], "a new route needs a row in MATRIX"
    assert sorted(MATRIX.keys() - routes) == [], "a row for a route that no longer exists"


# --- the objects each principal acts on ------------------------------------------------------


@dataclass
class World:
    web: SeededApp
    anna_task: int
    ben_task: int
    admin_task: int
    anna_page_task: int
    admin_page_task: int
    unsubscribe_token: str
    anna_inbound: int
    anna_inbound_2: int
    ben_inbound: int
    anna_review: int
    ben_review: int


@pytest.fixture
def world(web: SeededApp) -> World:
    from engine.core import unsubscribe

    sc = web.scenario
    with web.db.session() as s:
        sd = Seeder(s)
        q0 = s.get(Enrollment, sc.enrollments["q0"])
        p7 = s.get(Enrollment, sc.enrollments["p7"])
        assert q0 is not None and p7 is not None
        anna = sd.task(q0, "call-1", web.clock.now(), title="Call Agnes", notes="")
        admin = sd.task(p7, "call-2", web.clock.now(), title="Call Nora again", notes="")
        anna_page = sd.task(q0, "call-3", web.clock.now(), title="Call Agnes (page)", notes="")
        admin_page = sd.task(p7, "call-3", web.clock.now(), title="Call Nora (page)", notes="")
        token = unsubscribe.make_token(SECRET, sc.outbound["p1.intro"], "mara@company1.example")
        anna_in = sd.reply(s.get(OutboundMessage, sc.outbound["p1.bump"]), web.clock.now())
        anna_in_2 = sd.reply(s.get(OutboundMessage, sc.outbound["p1.intro"]), web.clock.now())
        ben_in = s.scalars(
            select(InboundMessage.id).where(InboundMessage.prospect_id == sc.prospects["p5"])
        ).one()
        reviews = []
        for e, step in ((q0, "bump"), (p7, "breakup")):  # manual emails: anna's, then ben's
            m = sd.send(e, step, web.clock.now())
            m.state, m.review, m.sent_at, m.attempts = "planned", "pending", None, 0
            reviews.append(m.id)
        for who in ("growth", "admin"):  # sequences to pause, resume and archive
            for use in ("live", "old"):
                sd.sequence(f"{use}-{who}", [{"id": "intro", "email": {"subject": "Hi"}}])
        s.flush()
        return World(
            web,
            anna.id,
            sc.tasks["p6.call"],
            admin.id,
            anna_page.id,
            admin_page.id,
            token,
            anna_in.id,
            anna_in_2.id,  # to reclassify (which re-reads the seeded mail's bare headers)
            ben_in,
            *reviews,
        )


def request_for(
    w: World, key: tuple[str, str], who: str, other: bool
) -> tuple[str, dict[str, Any]]:
    """(url, request kwargs) for one route, principal and object (own or another SDR's)."""
    sc = w.web.scenario
    p = sc.prospects
    mine = not other
    method, path = key
    email_of = {
        "p0": "erik@company0.example",
        "p5": "sofia@company5.example",
        "p1": "mara@company1.example",
        "q1": "bruno@agency1.example",
        "q2": "clara@agency2.example",
        "p6": "tim@company6.example",
        "p9": "ida@company9.example",
    }
    if path == "/api/v1/tasks/{task_id}/complete":
        task = w.anna_task if mine and who == "sdr" else w.ben_task
        task = w.admin_task if who == "admin" else task
        return f"/api/v1/tasks/{task}/complete", {"json": {"outcome": "connected"}}
    if path == "/api/v1/tasks":
        return "/api/v1/tasks?all_due=true" + ("&owner=ben" if other else ""), {}
    if path == "/api/v1/prospects/{prospect_id}":
        return f"/api/v1/prospects/{p['p0'] if mine else p['p5']}", {}
    if path == "/api/v1/prospects" and method == "POST":
        target = "p0" if mine else "p5"
        target = "p1" if who == "admin" else target
        item = {"email": email_of[target], "first_name": "Changed", "owner": "anna"}
        return path, {"json": {"prospects": [item]}}
    if path == "/api/v1/prospects/{email}":
        return f"/api/v1/prospects/{email_of['p9']}", {}
    if path == "/api/v1/enrollments":
        target = "p0" if mine else "p5"
        target = "p1" if who == "admin" else target
        return path, {"json": {"sequence": "agencies", "emails": [email_of[target]]}}
    if path == "/api/v1/enrollments/bulk":
        if other:  # another SDR's enrollments: refused, nothing changes
            return path, {"json": {"action": "stop", "owner": "ben"}}
        return path, {"json": {"action": "resume", "sequence": "agencies"}}
    if path.startswith("/api/v1/enrollments/"):
        target = ("q1" if mine else "p6") if who == "sdr" else "q2"
        sequence = "agencies" if target.startswith("q") else "saas-founders"
        return path, {"json": {"email": email_of[target], "sequence": sequence}}
    if path == "/api/v1/sequences/{key}/versions":
        return "/api/v1/sequences/saas-founders/versions", {}
    if path == "/api/v1/sequences/validate":
        yaml = b"key: x\nname: x\nsteps: []\n"
        return path, {"content": yaml, "headers": {"content-type": "application/yaml"}}
    if path == "/api/v1/suppressions" and method == "POST":
        return path, {"json": {"target": "nobody@elsewhere.example", "reason": "manual"}}
    if path == "/api/v1/suppressions/{suppression_id}":
        with w.web.db.session() as s:
            row = s.scalars(select(Suppression.id)).first()
        return f"/api/v1/suppressions/{row}", {}
    if path == "/api/v1/inbound":
        raw = b"From: a@b.example\r\nTo: anna@acme.example\r\nSubject: hi\r\nMessage-ID: <m@b.example>\r\n\r\nhello\r\n"  # noqa: E501
        return path, {"content": raw, "headers": {"content-type": "message/rfc822"}}
    if path == "/sequences/{key}":
        return "/sequences/saas-founders", {}
    if path in ("/queue", "/prospects") and other:  # an SDR's filter naming another owner
        return f"{path}?owner=ben", {}
    if path == "/queue/{task_id}":
        task = w.anna_page_task if mine and who == "sdr" else w.ben_task
        task = w.admin_page_task if who == "admin" else task
        return f"/queue/{task}", {"data": {"outcome": "connected"}}
    if path == "/prospects/{prospect_id}":
        return f"/prospects/{p['p0'] if mine else p['p5']}", {}
    if path == "/logout":
        return path, {"data": {}}
    if path == "/login" and method == "POST":
        return path, {"data": {"token": "kdz_wrong"}}
    if path == "/u/{token}":
        return f"/u/{w.unsubscribe_token}", {}
    if path == "/static":
        return "/static/kadenz.css", {}
    if path == "/api/v1/prospects/{email}/consent":
        email = email_of["p0" if mine else "p5"]
        return f"/api/v1/prospects/{email}/consent", {"json": {"source": "webinar-2026-03"}}
    if path == "/api/v1/prospects/{email}/notes":
        email = email_of["p0" if mine else "p5"]
        return f"/api/v1/prospects/{email}/notes", {"json": {"text": f"called ({who})"}}
    if path in ("/api/v1/inbox", "/api/v1/reviews", "/inbox"):
        return path + ("?owner=ben" if other else ""), {}
    inbound = w.anna_inbound if mine else w.ben_inbound
    if path == "/api/v1/inbox/{inbound_id}/done":
        return f"/api/v1/inbox/{inbound}/done", {}
    if path == "/api/v1/inbox/{inbound_id}/reply":
        body = {"text": "Happy to, here it is.", "key": f"answer-{who}"}
        return f"/api/v1/inbox/{inbound}/reply", {"json": body}
    if path == "/api/v1/inbox/{inbound_id}/reclassify":
        body = {"kind": "human_reply", "intent": "question"}
        inbound = w.anna_inbound_2 if mine else inbound
        return f"/api/v1/inbox/{inbound}/reclassify", {"json": body}
    if path == "/inbox/{inbound_id}/{action}":
        return f"/inbox/{inbound}/done", {"data": {}}
    review_id = w.anna_review if mine else w.ben_review
    if path == "/api/v1/reviews/{message_id}":
        body = {"action": "save", "subject": f"Hello ({who})"}
        return f"/api/v1/reviews/{review_id}", {"json": body}
    if path == "/reviews/{message_id}":
        data = {"action": "save", "subject": f"Hello ({who})", "body": "Hi,\n\nshort question."}
        return f"/reviews/{review_id}", {"data": data}
    if path == "/api/v1/sequences/{key}/enrollments":
        return "/api/v1/sequences/saas-founders/enrollments", {}
    if path == "/api/v1/sequences/{key}/migrate":
        return "/api/v1/sequences/saas-founders/migrate", {"json": {"dry_run": True}}
    if path in ("/api/v1/sequences/{key}/pause", "/api/v1/sequences/{key}/resume"):
        action = path.rpartition("/")[2]
        return f"/api/v1/sequences/live-{who}/{action}", {"json": {"reason": "matrix"}}
    if path == "/api/v1/sequences/{key}/archive":
        return f"/api/v1/sequences/old-{who}/archive", {"json": {"stop_all": True}}
    if path == "/sequences/{key}/control":
        return f"/sequences/live-{who}/control", {"data": {"action": "pause"}}
    if path == "/api/v1/mailboxes/{name}":
        return "/api/v1/mailboxes/anna", {"json": {"hourly_cap": 40}}
    if path == "/api/v1/users" and method == "POST":
        return path, {"json": {"name": f"new-{who}", "role": "sdr"}}
    if path.startswith("/hooks/"):
        return path, {"json": {"email": email_of["p0"], "booking_id": "b-1"}}
    return path, {}


@pytest.fixture
def clients(world: World) -> Iterator[Callable[[str], TestClient]]:
    made: dict[str, TestClient] = {}

    def client(who: str) -> TestClient:
        if who not in made:
            c = TestClient(world.web.app, follow_redirects=False)
            c.__enter__()
            if who != "anon":
                c.headers["Authorization"] = f"Bearer {world.web.tokens[who]}"
                r = c.post("/login", data={"token": world.web.tokens[who], "next": "/"})
                assert r.status_code == 303, r.text
            made[who] = c
        return made[who]

    yield client
    for c in made.values():
        c.__exit__(None, None, None)


def outcome(response: Any, key: tuple[str, str]) -> str:
    status = response.status_code
    if status == 303 and response.headers["location"].startswith("/login"):
        return "login"
    if status in (401, 403, 404, 409):
        return str(status)
    assert status < 500, f"{key}: {status} {response.text[:300]}"
    if status == 422 and key == ("POST", "/api/v1/enrollments/bulk"):
        return "refused"  # an SDR's filter naming another owner
    bulk = key[1] in ("/api/v1/prospects", "/api/v1/enrollments") and key[0] == "POST"
    if bulk and status == 200 and response.json()["refused"]:
        return "refused"
    return "ok"


def test_item02_role_route_ownership_matrix(world: World, clients: Any) -> None:
    wrong: list[str] = []
    before = _ben_state(world)
    # Destructive ones last: erasure, removals, and logging out (which ends the session).
    for key in sorted(MATRIX, key=lambda k: (k[1] == "/logout", k[0] == "DELETE", k)):
        row = MATRIX[key]
        for who in PRINCIPALS:
            cases = [(False, getattr(row, who))]
            if who == "sdr" and row.sdr_other is not None:
                cases.append((True, row.sdr_other))
            for other, expected in cases:
                url, kwargs = request_for(world, key, who, other)
                client = clients(who)
                if key[0] == "POST" and "data" in kwargs and who != "anon":
                    cookie = client.cookies.get(web_session.COOKIE)
                    kwargs["data"]["csrf"] = web_session.csrf_token(SECRET, cookie)
                response = client.request(key[0], url, **kwargs)
                got = outcome(response, key)
                if got != expected:
                    label = f"{who}{' on another SDR’s object' if other else ''}"
                    wrong.append(f"{key[0]} {url} as {label}: expected {expected}, got {got}")
    assert wrong == [], "\n".join(wrong)
    # Whatever the SDR tried on ben's objects, nothing of ben's changed hands or state.
    assert _ben_state(world) == before


def _ben_state(w: World) -> dict[str, Any]:
    with w.web.db.session() as s:
        p5 = s.get(Prospect, w.web.scenario.prospects["p5"])
        p6 = s.get(Enrollment, w.web.scenario.enrollments["p6"])
        task = s.get(Task, w.ben_task)
        assert p5 is not None and p6 is not None and task is not None
        sofia = s.scalars(select(Enrollment).where(Enrollment.prospect_id == p5.id)).all()
        return {
            "p5": (p5.owner, p5.first_name, p5.consent_source, p5.consent_date),
            "p5 enrollments": len(sofia),
            "p6": p6.state,
            "task": task.state,
        }


def test_item02_sdr_lists_show_only_their_own(world: World, clients: Any) -> None:
    sdr = clients("sdr")
    tasks = sdr.get("/api/v1/tasks?all_due=true&owner=ben").json()["items"]
    prospects = sdr.get("/api/v1/prospects?limit=500").json()["items"]
    assert tasks and {t["owner"] for t in tasks} == {"anna"}
    assert prospects and {p["owner"] for p in prospects} == {"anna"}
    page = sdr.get("/prospects").text
    assert "erik@company0.example" in page and "sofia@company5.example" not in page


# --- docs/api.md says the same ----------------------------------------------------------------


def _docs_rows() -> Iterator[tuple[tuple[str, str], dict[str, str]]]:
    text = (ROOT / "docs" / "api.md").read_text()
    table = re.search(
        r"^\| endpoint \| sdr \| growth \| manager \| admin \|\n(?:\|.*\n)+", text, re.M
    )
    assert table is not None, "docs/api.md lost its role table"
    for line in table.group(0).splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        endpoint, roles = (
            cells[0],
            dict(zip(("sdr", "growth", "manager", "admin"), cells[1:], strict=False)),
        )
        spans = re.findall(r"`([^`]+)`", endpoint)
        methods = ""
        for span in spans:  # `GET/POST /api/v1/x`, `/x/{id}` (same methods), `DELETE /x/{id}`
            head, _, path = span.rpartition(" ")
            methods = head or methods
            full = (path if path.startswith("/api/") else "/api/v1" + path).replace("\\|", "|")
            stem, _, last = full.rpartition("/")
            for method in methods.split("/"):
                for alt in last.split("|"):
                    yield (method, f"{stem}/{alt}"), roles


def test_item02_docs_role_table_matches() -> None:
    documented = dict(_docs_rows())
    api = {k: v for k, v in MATRIX.items() if k[1].startswith("/api/")}
    assert sorted(api.keys() - documented.keys()) == [], "an API route docs/api.md leaves out"
    for key, cells in documented.items():
        row = MATRIX[key]
        for role, cell in cells.items():
            if "no token" in cells["sdr"]:
                assert row.anon == "ok", key
                break
            denied = cell in ("–", "-", "")
            assert (getattr(row, role) == "403") == denied, (key, role, cell)


def test_item02_custom_field_names_cannot_rewrite_the_mapping(world: World, clients: Any) -> None:
    """Names that were once joined into a `--map` string: `=`, `,` and known field names."""
    sdr = clients("sdr")
    crafted = {"x=owner,owner": "ben", "owner": "ben", "email": "evil@elsewhere.example"}
    item = {"email": "new.one@company0.example", "custom": crafted}
    bad = {"email": "not an address", "custom": {"a=b": "c"}}
    r = sdr.post("/api/v1/prospects", json={"prospects": [item, bad]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 1 and [i["index"] for i in body["refused"]] == [1]
    assert "/tmp" not in r.text and "kadenz-api-" not in r.text  # no temporary paths
    with world.web.db.session() as s:
        p = s.scalars(select(Prospect).where(Prospect.email == item["email"])).one()
        assert p.owner == "anna"
        assert sorted(p.custom) == ["email", "owner", "x_owner_owner"]

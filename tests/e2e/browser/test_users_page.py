"""The users page in headless Chromium: each user's names, role, mailboxes, booking link and
what they hold, as `GET /api/v1/users` and the database say; managers and admins see it (and
its nav link), SDRs and growth do not. Screenshot: build/screenshots/users.png."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.core.states import LIVE_ENROLLMENT_STATES
from engine.people import users
from engine.store.models import Enrollment, Mailbox, Prospect, Task
from tests.e2e.browser.conftest import ARGS, CHROMIUM, SHOTS
from tests.support.web import SeededApp

pytestmark = pytest.mark.browser


def _team(web: SeededApp) -> None:
    """The seeded owners anna and ben become users; a manager owns nothing."""
    at = web.clock.now()
    with web.db.session() as s:
        users.add(
            s, "anna", at=at, email="anna@kadenz-demo.example", full_name="Anna Schmidt",
            aliases=["A. Schmidt"], booking_link="https://cal.example/anna/30min",
        )  # fmt: skip
        users.add(s, "ben", at=at, email="ben@kadenz-demo.example", full_name="Ben Okafor")
        users.add(s, "mia", at=at, full_name="Mia Weber", role="manager")
        for box in s.scalars(select(Mailbox)):
            box.owner = box.name  # mailboxes anna and ben belong to their users


def _expected(web: SeededApp) -> dict[str, dict[str, Any]]:
    """What the page must show, from the API and from the database (not from the page's
    own query)."""
    with TestClient(web.app) as api:
        listed = api.get(
            "/api/v1/users", headers={"Authorization": f"Bearer {web.tokens['manager']}"}
        )
    assert listed.status_code == 200, listed.text
    live = [str(s) for s in LIVE_ENROLLMENT_STATES]
    out: dict[str, dict[str, Any]] = {}
    with web.db.session() as s:
        for item in listed.json()["items"]:
            name = item["name"]
            out[name] = {
                **item,
                "mailboxes": sorted(s.scalars(select(Mailbox.name).where(Mailbox.owner == name))),
                "prospects": s.scalar(
                    select(func.count()).where(Prospect.owner == name, Prospect.erased_at.is_(None))
                ),
                "enrollments": s.scalar(
                    select(func.count()).where(Enrollment.owner == name, Enrollment.state.in_(live))
                ),
                "tasks": s.scalar(
                    select(func.count()).where(Task.owner == name, Task.state == "open")
                ),
            }
    return out


def test_the_users_page_shows_the_team_as_the_api_does(server: tuple[str, SeededApp]) -> None:
    from playwright.sync_api import sync_playwright

    base, web = server
    _team(web)
    expected = _expected(web)
    assert set(expected) == {"anna", "ben", "mia"}
    # Non-zero figures to compare, so a page that printed zeros everywhere would fail.
    assert expected["anna"]["prospects"] > 0 and expected["anna"]["enrollments"] > 0
    assert any(want["tasks"] for want in expected.values())
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            def login(role: str) -> None:
                page.context.clear_cookies()
                page.goto(f"{base}/login?next=/users")
                page.fill("#token", web.tokens[role])
                page.click("button[type=submit]")

            login("manager")
            page.wait_for_url(f"{base}/users")
            assert page.locator("nav a[href='/users']").count() == 1
            assert page.locator("h1").inner_text() == "Users"
            rows = page.locator("#users tbody tr")
            assert rows.count() == len(expected)
            for name, want in expected.items():
                row = page.locator(f"#users tr[data-user='{name}']")

                def cell(kind: str, row: Any = row) -> str:
                    return str(row.locator(f"td.{kind}").inner_text()).strip()

                assert cell("handle") == name
                assert cell("full-name") == (want["full_name"] or "")
                assert cell("email") == (want["email"] or "")
                assert cell("aliases") == ", ".join(want["aliases"])
                assert cell("role") == want["role"]
                assert cell("mailboxes") == (", ".join(want["mailboxes"]) or "—")
                assert cell("booking-link") == (want["booking_link"] or "none")
                assert int(cell("prospects")) == want["prospects"]
                assert int(cell("enrollments")) == want["enrollments"]
                assert int(cell("tasks")) == want["tasks"]
            link = page.locator("#users tr[data-user='anna'] td.booking-link a")
            assert link.get_attribute("href") == "https://cal.example/anna/30min"
            page.screenshot(path=str(SHOTS / "users.png"), full_page=True)

            # The prospects count links to that owner's prospects.
            page.locator("#users tr[data-user='anna'] td.prospects a").click()
            page.wait_for_url(f"{base}/prospects?owner=anna")
            assert page.locator("table tbody tr").count() == expected["anna"]["prospects"]

            # An SDR (and growth) neither sees the link nor the page.
            for role in ("sdr", "growth"):
                login(role)
                page.wait_for_url(f"{base}/users")
                assert page.locator("nav a[href='/users']").count() == 0
                assert "Only managers and admins see the team." in page.content()
        finally:
            browser.close()
    # The refused page answers 403, which Chromium logs as a console error (once per role).
    assert [p for p in problems if "status of 403" not in p] == []

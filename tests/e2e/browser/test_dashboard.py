"""Every dashboard page renders in headless Chromium with seeded data and no console errors;
the SDR queue's "done" action works through the browser. Screenshots: build/screenshots/."""

from __future__ import annotations

import pytest

from engine.store.models import Task
from tests.e2e.browser.conftest import ARGS, CHROMIUM, SHOTS
from tests.support.web import SeededApp

pytestmark = pytest.mark.browser


def test_pages_render_and_queue_done_works(server: tuple[str, SeededApp]) -> None:
    from playwright.sync_api import sync_playwright

    base, web = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith(base) or r.url.startswith("data:")
                    else problems.append(f"external request: {r.url}")
                ),
            )

            # Not logged in: redirected to the login form, which refuses a wrong token.
            page.goto(f"{base}/queue")
            assert page.url.startswith(f"{base}/login")
            page.screenshot(path=str(SHOTS / "login.png"), full_page=True)
            page.fill("#token", "kdz_wrong")
            page.click("button[type=submit]")
            assert "Unknown or revoked token" in page.content()

            # An admin sees every page.
            page.fill("#token", web.tokens["admin"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/queue")
            cookie = next(c for c in page.context.cookies() if c["name"] == "kadenz_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

            page.goto(f"{base}/")
            assert page.locator("h1").inner_text() == "Overview"
            assert "44.4 %" in page.inner_text("table.numbers")  # saas-founders reply rate
            assert "Auto-replies excluded" in page.content()
            assert page.locator("svg.chart rect.bar").count() == 2  # weeks 10 and 11
            page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)

            page.click("table a:has-text('saas-founders')")
            page.wait_for_url(f"{base}/sequences/saas-founders")
            assert "not enough data yet" in page.content()
            assert page.locator("svg.chart circle.dot").count() == 2  # variants a and b
            page.screenshot(path=str(SHOTS / "sequence.png"), full_page=True)

            page.goto(f"{base}/mailboxes")
            assert "paused" in page.inner_text("table.numbers")
            assert "bounce rate 4.1 %" in page.content()
            page.screenshot(path=str(SHOTS / "mailboxes.png"), full_page=True)

            page.goto(f"{base}/prospects")
            page.screenshot(path=str(SHOTS / "prospects.png"), full_page=True)
            page.goto(f"{base}/prospects/{web.scenario.prospects['p2']}")
            text = page.content()
            assert "reclassified by anna" in text and "inbound.reclassified" in text
            assert "Auto-Submitted" in text or "intent phrase" in text  # the evidence
            page.screenshot(path=str(SHOTS / "prospect.png"), full_page=True)

            page.goto(f"{base}/docs")
            assert "/api/v1/reports" in page.content()
            page.screenshot(path=str(SHOTS / "api-docs.png"), full_page=True)

            page.goto(f"{base}/queue")
            page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
            page.locator(
                "form[action='/queue/{}'] button[value=connected]".format(
                    web.scenario.tasks["p6.call"]
                )
            ).click()
            page.wait_for_url(f"{base}/queue?done={web.scenario.tasks['p6.call']}")
            assert page.locator(f"#task-{web.scenario.tasks['p6.call']}").count() == 0
            assert page.locator(f"#task-{web.scenario.tasks['p7.call']}").count() == 1
            page.screenshot(path=str(SHOTS / "queue-after-done.png"), full_page=True)

            # A form posted without the CSRF token is refused.
            status = page.evaluate(
                """async (id) => (await fetch('/queue/' + id, {method: 'POST',
                     headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                     body: 'outcome=voicemail'})).status""",
                web.scenario.tasks["p7.call"],
            )
            assert status == 403
        finally:
            browser.close()
    with web.db.session() as s:
        done = s.get(Task, web.scenario.tasks["p6.call"])
        untouched = s.get(Task, web.scenario.tasks["p7.call"])
        assert done is not None and done.state == "done" and done.outcome == "connected"
        assert untouched is not None and untouched.state == "open"
    # Chromium logs the two deliberate refusals (wrong login token: 401, missing CSRF: 403) as
    # console errors; there must be nothing else.
    expected = [p for p in problems if "status of 401" in p or "status of 403" in p]
    assert len(expected) == 2
    assert [p for p in problems if p not in expected] == []

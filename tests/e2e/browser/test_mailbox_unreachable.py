"""A mailbox whose IMAP password variable is missing, as a manager sees it in Chromium: the
mailbox page says which mailbox, why, since when, that its sending is paused, and the fix;
/api/v1/health says `degraded` with the same reason."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.inbound import poll
from engine.store.models import Mailbox
from tests.e2e.browser.conftest import ARGS, CHROMIUM, SHOTS
from tests.support.web import SeededApp

pytestmark = pytest.mark.browser

VARIABLE = "KADENZ_TEST_ANNA_IMAP_PASSWORD"


def test_mailbox_page_and_health_show_the_dark_inbox(server: tuple[str, SeededApp]) -> None:
    from playwright.sync_api import sync_playwright

    base, web = server
    with web.db.session() as s:
        anna = s.scalars(select(Mailbox).where(Mailbox.name == "anna")).one()
        anna.imap_url, anna.password_env, anna.paused = "imaps://mail.acme.example", VARIABLE, False
        mailbox_id = anna.id
    dark = timedelta(minutes=web.settings.inbound_dark_minutes)
    poll.poll_mailbox(web.db, web.clock, mailbox_id, env={}, dark_after=dark)
    web.clock.advance(dark)
    poll.poll_mailbox(web.db, web.clock, mailbox_id, env={}, dark_after=dark)

    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            page.goto(f"{base}/api/v1/health")  # no token needed
            health = json.loads(page.inner_text("body"))
            assert health["status"] == "degraded"
            (item,) = health["mailboxes"]
            assert (item["mailbox"], item["direction"], item["kind"]) == (
                "anna",
                "imap",
                "password_missing",
            )
            assert item["sending_paused"] is True and VARIABLE in item["reason"]

            page.goto(f"{base}/login")
            page.fill("#token", web.tokens["manager"])
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{base}/mailboxes")
            alert = page.inner_text("#unreachable")
            assert "Degraded: 1 mailbox connection failing" in alert
            assert "anna IMAP (replies) unreachable since" in alert
            assert f"environment variable {VARIABLE} is not set" in alert
            assert "Sending paused until the inbox can be read again." in alert
            assert f"Fix: export {VARIABLE} in the environment of `kadenz run`" in alert
            row = page.locator("table.numbers tr", has_text="anna@").inner_text()
            assert "paused" in row and "imap password_missing" in row
            page.screenshot(path=str(SHOTS / "mailboxes-unreachable.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []

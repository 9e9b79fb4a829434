"""In Chromium: an SDR answers a reply from the inbox; the prospect gets it once, in the
thread (checked at a real SMTP server by its headers); reclassify and done work in one click."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from engine.core.states import MessageState
from engine.inbound import inbox
from engine.outbound.send import send_due
from engine.store.models import InboundMessage, Mailbox, OutboundMessage
from tests.e2e.browser.conftest import ARGS, CHROMIUM, SHOTS
from tests.integration.sending.factory import received
from tests.support.smtp_server import SmtpSink
from tests.support.web import SeededApp

pytestmark = pytest.mark.browser


def _login(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_an_sdr_answers_from_the_inbox_once_in_the_thread(
    server: tuple[str, SeededApp],
) -> None:
    from playwright.sync_api import sync_playwright

    base, web = server
    with web.db.session() as s:
        [first, *_] = inbox.items(s, owner="anna")
        assert first.enrollment_id and first.classification == "human_reply"
        row = s.get(InboundMessage, first.id)
        assert row is not None
        thread_id = row.header_message_id
    with SmtpSink() as sink:
        with web.db.session() as s:
            s.execute(update(Mailbox).values(smtp_url=sink.url))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                _login(page, base, web.tokens["sdr"])
                page.goto(f"{base}/inbox")
                card = page.locator(f"#inbound-{first.id}")
                card.locator("textarea").fill("Hi! Tuesday 10:00 works for me. Anna")
                card.locator("form.reply button[type=submit]").click()
                page.wait_for_url(f"{base}/inbox?note=*")
                assert "planned as message" in page.inner_text("p.notice")
                page.go_back()  # the same form again (a double submit): still one answer
                page.locator(f"#inbound-{first.id} textarea").fill("Hi! Tuesday 10:00 works.")
                page.locator(f"#inbound-{first.id} form.reply button[type=submit]").click()
                page.screenshot(path=str(SHOTS / "inbox.png"), full_page=True)
            finally:
                browser.close()
        send_due(web.db, web.clock, web.settings)
        send_due(web.db, web.clock, web.settings)
        answers = [m for m in received(sink) if "Tuesday 10:00" in str(m.get_body(("plain",)))]
    assert len(answers) == 1
    assert answers[0]["In-Reply-To"] == f"<{thread_id}>"
    assert f"<{thread_id}>" in str(answers[0]["References"])
    assert str(answers[0]["Subject"]).startswith("Re:")
    with web.db.session() as s:
        planned = s.scalars(
            select(OutboundMessage).where(OutboundMessage.step_id.startswith("inbox-reply:"))
        ).all()
        assert [m.state for m in planned] == [MessageState.SENT]


def test_reclassify_and_done_in_one_click(server: tuple[str, SeededApp]) -> None:
    from playwright.sync_api import sync_playwright

    base, web = server
    with web.db.session() as s:
        before = [i.id for i in inbox.items(s, owner="anna")]
    assert len(before) >= 2
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _login(page, base, web.tokens["sdr"])
            page.goto(f"{base}/inbox")
            page.locator(f"#inbound-{before[0]} button[value='human_reply:question']").click()
            page.wait_for_url(f"{base}/inbox?note=*")
            assert "question" in page.inner_text("p.notice")
            page.locator(f"#inbound-{before[1]} form.outcomes button:has-text('Done')").click()
            page.wait_for_url(f"{base}/inbox?note=*")
            assert page.locator(f"#inbound-{before[1]}").count() == 0
        finally:
            browser.close()
    with web.db.session() as s:
        row = s.get(InboundMessage, before[0])
        assert row is not None and row.intent == "question" and row.overridden_by == "anna"
        assert before[1] not in [i.id for i in inbox.items(s, owner="anna")]

"""In Chromium: filtering the overview by owner and date range shows the API's numbers for
that filter, and its "Download CSV" link gives the same rows."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest

from tests.e2e.browser.conftest import ARGS, CHROMIUM
from tests.support.web import SeededApp

pytestmark = pytest.mark.browser


def _card(text: str, label: str) -> str:
    found = re.search(r"(\S+)\s*\n?\s*" + re.escape(label), text)
    assert found, f"{label!r} not on the page:\n{text}"
    return found.group(1)


def test_overview_filters_match_the_api_and_the_csv(server: tuple[str, SeededApp]) -> None:
    from playwright.sync_api import sync_playwright

    base, web = server
    auth = {"Authorization": f"Bearer {web.tokens['manager']}"}
    wanted = {"owner": "anna", "since": "2026-03-02", "until": "2026-03-06"}
    api = httpx.get(f"{base}/api/v1/reports", params=wanted, headers=auth).json()
    everyone = httpx.get(f"{base}/api/v1/reports", headers=auth).json()
    assert api["total"]["contacted"] != everyone["total"]["contacted"]  # the filter bites
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login")
            page.fill("input[name=token]", web.tokens["manager"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            before = _card(page.inner_text("section.cards"), "contacted")
            assert before == str(everyone["total"]["contacted"])
            page.fill("input[name=since]", wanted["since"])
            page.fill("input[name=until]", wanted["until"])
            page.select_option("select[name=owner]", "anna")
            page.click("form.filters button[type=submit]")
            page.wait_for_url(re.compile(r".*owner=anna.*"))
            cards = page.inner_text("section.cards")
            assert _card(cards, "contacted") == str(api["total"]["contacted"])
            assert f"({api['total']['replied']} of {api['total']['delivered']})" in cards
            assert "owner anna" in page.inner_text("#filtered")
            with page.expect_download() as download:
                page.click("a.download")
            rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
        finally:
            browser.close()
    assert [r["group"] for r in rows] == [r["group"] for r in api["rows"]] + ["total"]
    assert int(rows[-1]["contacted"]) == api["total"]["contacted"]
    assert int(rows[-1]["replied"]) == api["total"]["replied"]

"""Issue 19 item 15: `/u/<token>` with an id no message can have (29 digits, Unicode
digits) is an invalid link like any other — never a 500 (PostgreSQL's integer overflows)."""

from __future__ import annotations

import pytest

from tests.support.web import SeededApp, TestClient


@pytest.mark.parametrize(
    "token", ["u1.12345678901234567890123456789.abc", "u1.2147483648.abc", "u1.\u00b2\u00b3.abc"]
)
def test_item15_unsubscribe_with_an_impossible_id(web: SeededApp, token: str) -> None:
    with TestClient(web.app) as client:
        shown = client.get(f"/u/{token}")
        posted = client.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click")
    for r in (shown, posted):
        assert r.status_code == 400, r.text
        assert "not valid" in r.text

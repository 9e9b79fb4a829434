"""Dashboard sessions, CSRF tokens, webhook signatures and SVG charts: pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.api import charts, session
from engine.core import metrics
from engine.store.models import ApiToken
from engine.workspace import webhooks

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _token() -> ApiToken:
    return ApiToken(
        id=7, name="t", token_hash="x" * 64, prefix="kdz_", role="admin", created_at=NOW
    )


def test_cookie_roundtrip_expiry_and_tampering() -> None:
    cookie = session.make_cookie("k", _token(), NOW)
    assert "kdz_" not in cookie  # the token itself never goes into the cookie
    assert session.read_cookie("k", cookie, NOW) == 7
    assert session.read_cookie("k", cookie, NOW + session.LIFETIME + timedelta(seconds=1)) is None
    assert session.read_cookie("other-key", cookie, NOW) is None
    token_id, expiry, mac = cookie.split(".")
    assert session.read_cookie("k", f"8.{expiry}.{mac}", NOW) is None
    assert session.read_cookie("k", f"{token_id}.{int(expiry) + 999}.{mac}", NOW) is None
    for junk in ("", "a.b.c", "1.2", None):
        assert session.read_cookie("k", junk, NOW) is None


def test_csrf_is_bound_to_the_session() -> None:
    a = session.make_cookie("k", _token(), NOW)
    b = session.make_cookie("k", _token(), NOW + timedelta(minutes=1))
    assert session.csrf_ok("k", a, session.csrf_token("k", a))
    assert not session.csrf_ok("k", b, session.csrf_token("k", a))
    assert not session.csrf_ok("k", a, "")
    assert not session.csrf_ok("k", None, session.csrf_token("k", a))


def test_webhook_signature_verifies_and_refuses_replays() -> None:
    body = b'{"kind":"reply"}'
    header = webhooks.sign("whsec_x", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert webhooks.verify("whsec_x", header, body, now=1_700_000_100)
    assert not webhooks.verify("whsec_x", header, body + b" ", now=1_700_000_100)
    assert not webhooks.verify("whsec_x", header, body, now=1_700_001_000)  # too old
    assert not webhooks.verify("whsec_x", "v1=abc", body, now=1_700_000_000)


def test_bar_chart_escapes_labels_and_draws_one_bar_per_value() -> None:
    svg = str(charts.bar_chart(["<b>W1</b>", "W2"], [3, 0], title="t & t"))
    assert svg.count('class="bar"') == 2
    assert "<b>" not in svg and "&lt;b&gt;W1" in svg and "t &amp; t" in svg
    assert "no data yet" in str(charts.bar_chart([], [], title="empty"))


def test_interval_chart_has_a_dot_and_whiskers_per_variant() -> None:
    result = metrics.compare_variants({"a": (1, 5), "b": (1, 4)})
    svg = str(charts.interval_chart(result.variants, title="x"))
    assert svg.count('class="dot"') == 2
    assert svg.count('class="ci"') == 6  # line + two end caps each
    assert "20.0 %" in svg and "25.0 %" in svg

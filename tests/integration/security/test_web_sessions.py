"""Issue 19 items 13, 14 and 20: a logged-out cookie is dead on the server too; the login
form refuses a cross-site POST; wrong tokens (login, bearer, unsubscribe) are rate limited."""

from __future__ import annotations

from datetime import timedelta

from engine.api import session as web_session
from tests.support.web import SECRET, SeededApp, TestClient


def _login(client: TestClient, token: str) -> str:
    r = client.post("/login", data={"token": token, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    cookie = client.cookies.get(web_session.COOKIE)
    assert cookie
    return cookie


def test_item13_session_cookie_is_invalid_after_logout(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        cookie = _login(client, web.tokens["manager"])
        assert client.get("/", follow_redirects=False).status_code == 200
        r = client.post(
            "/logout",
            data={"csrf": web_session.csrf_token(SECRET, cookie)},
            follow_redirects=False,
        )
        assert r.status_code == 303
    with TestClient(web.app) as thief:  # a copy of the cookie, replayed after the logout
        thief.cookies.set(web_session.COOKIE, cookie)
        r = thief.get("/", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/login?next=/")
    with TestClient(web.app) as client:  # logging in again (same second) gets a new cookie
        again = _login(client, web.tokens["manager"])
        assert again != cookie and client.get("/", follow_redirects=False).status_code == 200


def test_item14_login_form_refuses_a_cross_site_post(web: SeededApp) -> None:
    token = {"token": web.tokens["admin"], "next": "/"}
    with TestClient(web.app, base_url="http://kadenz.acme.example") as client:
        for headers in (
            {"Origin": "https://evil.example"},
            {"Referer": "https://evil.example/form.html"},
            {"Sec-Fetch-Site": "cross-site", "Origin": "http://kadenz.acme.example"},
        ):
            r = client.post("/login", data=token, headers=headers, follow_redirects=False)
            assert r.status_code == 403, headers
            assert web_session.COOKIE not in r.cookies
        same = {"Origin": "http://kadenz.acme.example", "Sec-Fetch-Site": "same-origin"}
        r = client.post("/login", data=token, headers=same, follow_redirects=False)
        assert r.status_code == 303 and web_session.COOKIE in r.cookies


def test_item20_wrong_tokens_are_rate_limited(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        codes = [
            client.get("/api/v1/reports", headers={"Authorization": f"Bearer kdz_guess{i}"})
            for i in range(12)
        ]
        assert [r.status_code for r in codes] == [401] * 10 + [429] * 2
        assert int(codes[-1].headers["Retry-After"]) > 0
        good = {"Authorization": f"Bearer {web.tokens['manager']}"}
        assert client.get("/api/v1/reports", headers=good).status_code == 429  # even the right one
        logins = [client.post("/login", data={"token": f"kdz_x{i}"}) for i in range(11)]
        assert [r.status_code for r in logins] == [401] * 10 + [429]
        links = [client.get(f"/u/u1.{i + 1}.forged") for i in range(31)]
        assert [r.status_code for r in links] == [400] * 30 + [429]
        web.clock.advance(timedelta(minutes=1, seconds=1))  # the window passes
        assert client.get("/api/v1/reports", headers=good).status_code == 200
        assert client.get("/u/u1.1.forged").status_code == 400

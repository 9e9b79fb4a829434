"""The API refuses missing, wrong and under-privileged tokens with problem+json."""

from __future__ import annotations

from tests.support.web import SeededApp, TestClient


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_token_is_401_problem(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        r = client.get("/api/v1/reports")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["status"] == 401 and "bearer" in r.json()["detail"]


def test_wrong_and_revoked_tokens_are_401(web: SeededApp) -> None:
    from engine.workspace import tokens

    with TestClient(web.app) as client:
        assert client.get("/api/v1/reports", headers=_bearer("kdz_nope")).status_code == 401
        with web.db.session() as s:
            tokens.revoke(s, "test-manager", web.clock.now())
        r = client.get("/api/v1/reports", headers=_bearer(web.tokens["manager"]))
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]


def test_under_privileged_roles_are_403(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        sdr_reports = client.get("/api/v1/reports", headers=_bearer(web.tokens["sdr"]))
        growth_supp = client.get("/api/v1/suppressions", headers=_bearer(web.tokens["growth"]))
        manager_supp = client.post(
            "/api/v1/suppressions",
            json={"target": "x@y.example"},
            headers=_bearer(web.tokens["manager"]),
        )
        admin_reports = client.get("/api/v1/reports", headers=_bearer(web.tokens["admin"]))
    for r in (sdr_reports, growth_supp, manager_supp):
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert "may not" in r.json()["detail"]
    assert admin_reports.status_code == 200


def test_validation_errors_name_the_field(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        r = client.post(
            "/api/v1/suppressions", json={"reason": "manual"}, headers=_bearer(web.tokens["admin"])
        )
        bad_limit = client.get("/api/v1/suppressions?limit=0", headers=_bearer(web.tokens["admin"]))
        unknown = client.get(
            "/api/v1/reports?sequence=nope", headers=_bearer(web.tokens["manager"])
        )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "target"
    assert bad_limit.status_code == 422 and bad_limit.json()["field"] == "query.limit"
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]


def test_metrics_are_prometheus_text_for_managers_only(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        refused = client.get("/api/v1/metrics", headers=_bearer(web.tokens["sdr"]))
        r = client.get("/api/v1/metrics", headers=_bearer(web.tokens["manager"]))
    assert refused.status_code == 403
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = [line for line in r.text.splitlines() if line and not line.startswith("#")]
    assert any(line.startswith("kadenz_") for line in lines)
    assert all(len(line.rsplit(" ", 1)) == 2 for line in lines)  # name{labels} value


def test_every_dashboard_page_sends_a_stranger_to_the_login_form(web: SeededApp) -> None:
    pages = ["/", "/sequences/anything", "/mailboxes", "/queue", "/prospects", "/prospects/1"]
    with TestClient(web.app, follow_redirects=False) as client:
        client.cookies.set("kadenz_session", "forged.cookie")
        answers = {page: client.get(page) for page in pages}
        posted = client.post("/queue/1", data={"outcome": "connected", "csrf": "x"})
    for page, r in answers.items():
        assert (r.status_code, r.headers["location"]) == (303, f"/login?next={page}"), page
    assert (posted.status_code, posted.headers["location"]) == (303, "/login?next=/queue/1")

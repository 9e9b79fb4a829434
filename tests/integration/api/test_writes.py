"""Prospect upserts, enrollments and erasure through the API, reusing the services."""

from __future__ import annotations

from sqlalchemy import select

from engine.people import suppression
from engine.store.models import Enrollment, Prospect
from tests.support.web import SeededApp, TestClient


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_bulk_upsert_refuses_bad_items_with_their_index(web: SeededApp) -> None:
    body = {
        "prospects": [
            {
                "email": "New.Person@Startup.example",
                "first_name": "New",
                "company": "Startup",
                "custom": {"pain": "manual outreach"},
            },
            {"email": "not-an-address", "first_name": "Bad"},
            {"email": "erik@company0.example", "title": "CEO"},
        ]
    }
    with TestClient(web.app) as client:
        r = client.post("/api/v1/prospects", json=body, headers=_bearer(web.tokens["sdr"]))
        again = client.post("/api/v1/prospects", json=body, headers=_bearer(web.tokens["sdr"]))
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["created"], result["updated"]) == (1, 1)
    assert [i["index"] for i in result["refused"]] == [1]
    assert again.json()["unchanged"] == 2
    with web.db.session() as s:
        new = s.scalars(
            select(Prospect).where(Prospect.email_key == "new.person@startup.example")
        ).one()
        assert new.owner == "anna"  # an SDR token imports as its owner
        assert new.custom.get("pain") == "manual outreach"


def test_pause_resume_stop_respect_ownership(web: SeededApp) -> None:
    ben, anna = _bearer(web.tokens["sdr-ben"]), _bearer(web.tokens["sdr"])
    target = {"email": "nora@company7.example", "sequence": "saas-founders", "reason": "on leave"}
    with TestClient(web.app) as client:
        foreign = client.post("/api/v1/enrollments/pause", json=target, headers=anna)
        paused = client.post("/api/v1/enrollments/pause", json=target, headers=ben)
        twice = client.post("/api/v1/enrollments/pause", json=target, headers=ben)
        resumed = client.post("/api/v1/enrollments/resume", json=target, headers=ben)
        stopped = client.post("/api/v1/enrollments/stop", json=target, headers=ben)
    assert foreign.status_code == 404
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    assert twice.status_code == 409
    assert resumed.json()["state"] == "active"
    assert stopped.json()["state"] == "stopped"


def test_enroll_and_erase(web: SeededApp) -> None:
    admin = _bearer(web.tokens["admin"])
    with TestClient(web.app) as client:
        client.post(
            "/api/v1/prospects",
            headers=admin,
            json={
                "prospects": [
                    {"email": "ola@fresh.example", "first_name": "Ola", "company": "Fresh"}
                ]
            },
        )
        enrolled = client.post(
            "/api/v1/enrollments",
            headers=admin,
            json={
                "sequence": "agencies",
                "emails": ["ola@fresh.example", "tim@company6.example"],
                "owner": "anna",
                "mailbox": "anna",
            },
        )
        unknown = client.post(
            "/api/v1/enrollments",
            headers=admin,
            json={"sequence": "nope", "emails": ["ola@fresh.example"]},
        )
        erased = client.delete("/api/v1/prospects/ola@fresh.example", headers=admin)
        gone = client.delete("/api/v1/prospects/ola@fresh.example", headers=admin)
        sdr_erase = client.delete(
            "/api/v1/prospects/tim@company6.example", headers=_bearer(web.tokens["sdr"])
        )
    assert enrolled.status_code == 200, enrolled.text
    body = enrolled.json()
    assert {e["email"] for e in body["enrolled"]} | {r["email"] for r in body["refused"]} == {
        "ola@fresh.example",
        "tim@company6.example",
    }
    assert unknown.status_code == 404
    assert erased.status_code == 200, erased.text
    assert gone.status_code == 404
    assert sdr_erase.status_code == 403
    with web.db.session() as s:
        assert suppression.find(s, "ola@fresh.example") is not None
        live = s.scalars(
            select(Enrollment).where(Enrollment.prospect_id == erased.json()["prospect_id"])
        ).all()
        assert all(e.state == "stopped" for e in live)

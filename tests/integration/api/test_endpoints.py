"""REST endpoints on the seeded scenario: reports, tasks, suppressions, pagination."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.api.app import create_app
from engine.settings import load_settings
from engine.store.models import Enrollment, Event, Task
from tests.support.seed import EXPECTED
from tests.support.web import SECRET, SeededApp, TestClient


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_report_endpoint_matches_cli_numbers(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        r = client.get("/api/v1/reports?by=sequence", headers=_bearer(web.tokens["manager"]))
    assert r.status_code == 200
    body = r.json()
    rows = {row["group"]: row for row in body["rows"]}
    for key, numbers in EXPECTED["saas-founders"].items():
        assert rows["saas-founders"][key] == numbers
    assert rows["saas-founders"]["reply_rate"] == 4 / 9
    assert "auto-replies do not count" in body["definitions"]["replied"]


def test_sdr_sees_and_completes_only_own_tasks(web: SeededApp) -> None:
    anna, ben = _bearer(web.tokens["sdr"]), _bearer(web.tokens["sdr-ben"])
    tim_call = web.scenario.tasks["p6.call"]  # p6 is ben's
    with TestClient(web.app) as client:
        anna_tasks = client.get("/api/v1/tasks", headers=anna).json()
        ben_tasks = client.get("/api/v1/tasks", headers=ben).json()
        forbidden = client.post(
            f"/api/v1/tasks/{tim_call}/complete", json={"outcome": "connected"}, headers=anna
        )
        bad = client.post(
            f"/api/v1/tasks/{tim_call}/complete", json={"outcome": "maybe"}, headers=ben
        )
        done = client.post(
            f"/api/v1/tasks/{tim_call}/complete", json={"outcome": "meeting_booked"}, headers=ben
        )
        again = client.post(
            f"/api/v1/tasks/{tim_call}/complete", json={"outcome": "connected"}, headers=ben
        )
    assert anna_tasks["items"] == []
    assert sorted(t["id"] for t in ben_tasks["items"]) == sorted(
        [web.scenario.tasks["p6.call"], web.scenario.tasks["p7.call"]]
    )
    assert ben_tasks["items"][0]["notes"].startswith("Talk track")
    assert forbidden.status_code == 404
    assert bad.status_code == 422 and bad.json()["field"] == "outcome"
    assert done.status_code == 200 and done.json()["outcome"] == "meeting_booked"
    assert again.status_code == 409
    with web.db.session() as s:
        task = s.get(Task, tim_call)
        assert task is not None and task.state == "done"
        enrollment = s.get(Enrollment, task.enrollment_id)
        assert enrollment is not None and enrollment.state == "active"
        kinds = list(s.scalars(select(Event.type).where(Event.task_id == tim_call)))
    assert kinds[-2:] == ["task.completed", "meeting.booked"]


def test_suppressions_add_list_remove_with_pagination(web: SeededApp) -> None:
    admin = _bearer(web.tokens["admin"])
    with TestClient(web.app) as client:
        for i in range(3):
            r = client.post(
                "/api/v1/suppressions", json={"target": f"Person{i}@Blocked.example"}, headers=admin
            )
            assert r.status_code == 201
        assert (
            client.post(
                "/api/v1/suppressions", json={"target": "@competitor.example"}, headers=admin
            ).json()["kind"]
            == "domain"
        )
        first = client.get("/api/v1/suppressions?limit=2", headers=admin).json()
        second = client.get(first["next"], headers=admin).json()
        bad = client.post("/api/v1/suppressions", json={"target": "not-an-address"}, headers=admin)
        gone = client.delete(f"/api/v1/suppressions/{first['items'][0]['id']}", headers=admin)
        after = client.get("/api/v1/suppressions?limit=100", headers=admin).json()
    assert [i["value"] for i in first["items"]] == [
        "person0@blocked.example",
        "person1@blocked.example",
    ]
    assert second["next"] is None and len(second["items"]) == 2
    assert bad.status_code == 422 and bad.json()["field"] == "target"
    assert gone.status_code == 204
    assert len(after["items"]) == 3


def test_prospects_and_sequences_read(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        mine = client.get("/api/v1/prospects?limit=50", headers=_bearer(web.tokens["sdr"])).json()
        other = client.get(
            f"/api/v1/prospects/{web.scenario.prospects['p5']}", headers=_bearer(web.tokens["sdr"])
        )
        seqs = client.get("/api/v1/sequences", headers=_bearer(web.tokens["growth"])).json()
        versions = client.get(
            "/api/v1/sequences/saas-founders/versions", headers=_bearer(web.tokens["growth"])
        ).json()
    assert {p["owner"] for p in mine["items"]} == {"anna"}
    assert other.status_code == 404
    assert [q["key"] for q in seqs["items"]] == ["agencies", "saas-founders"]
    assert versions[0]["steps"] == ["intro", "bump", "call-1", "breakup"]


def test_raw_inbound_requires_rfc822(web: SeededApp) -> None:
    admin = _bearer(web.tokens["admin"])
    with TestClient(web.app) as client:
        wrong = client.post(
            "/api/v1/inbound", content=b"hi", headers={**admin, "Content-Type": "text/plain"}
        )
        empty = client.post(
            "/api/v1/inbound", content=b"", headers={**admin, "Content-Type": "message/rfc822"}
        )
    assert wrong.status_code == 415 and wrong.json()["field"] == "Content-Type"
    assert empty.status_code == 422


def test_validate_posted_sequence(web: SeededApp) -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    good = (root / "sequences" / "saas-founders.yaml").read_text()
    growth = _bearer(web.tokens["growth"])
    with TestClient(web.app) as client:
        ok = client.post(
            "/api/v1/sequences/validate",
            content=good,
            headers={**growth, "Content-Type": "application/yaml"},
        )
        bad = client.post(
            "/api/v1/sequences/validate",
            content=b"key: x\nsteps: 3\n",
            headers={**growth, "Content-Type": "application/yaml"},
        )
        sdr = client.post(
            "/api/v1/sequences/validate", content=good, headers=_bearer(web.tokens["sdr"])
        )
    assert ok.status_code == 200, ok.text
    assert ok.json()["valid"] is True and ok.json()["key"] == "saas-founders"
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("posted.yaml:")
    assert bad.json()["diagnostics"]
    assert sdr.status_code == 403


def test_raw_inbound_reply_is_ingested(web: SeededApp) -> None:
    from engine.store.models import OutboundMessage

    with web.db.session() as s:
        m = s.get(OutboundMessage, web.scenario.outbound["p7.bump"])
        assert m is not None
        raw = (
            f"From: Nora Example <{m.to_address}>\r\n"
            f"To: {m.from_address}\r\n"
            f"Subject: Re: {m.subject}\r\n"
            "Date: Mon, 09 Mar 2026 11:00:00 +0000\r\n"
            "Message-ID: <nora-reply-1@company7.example>\r\n"
            f"In-Reply-To: <{m.message_id}>\r\n"
            f"References: <{m.message_id}>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            "Hi, yes, this sounds interesting. Can we talk on Thursday?\r\n"
        ).encode()
    headers = {**_bearer(web.tokens["admin"]), "Content-Type": "message/rfc822"}
    with TestClient(web.app) as client:
        first = client.post("/api/v1/inbound", content=raw, headers=headers)
        again = client.post("/api/v1/inbound", content=raw, headers=headers)
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["inbound_id"] > 0 and body["duplicate"] is False
    assert body["kind"] == "human_reply"
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert again.json()["inbound_id"] == body["inbound_id"]


def test_the_queue_ends_today_at_midnight_in_the_team_timezone(web: SeededApp) -> None:
    # 12:00 UTC on the seeded Monday is 05:00 in Los Angeles: a call due at 03:00 UTC on
    # Tuesday is tomorrow for a UTC team but still today (20:00 Monday) for a team in LA.
    due = web.clock.now().replace(hour=3) + timedelta(days=1)
    with web.db.session() as s:
        late = Task(
            kind="call",
            owner="ben",
            title="Late call",
            state="open",
            due_at=due,
            created_at=web.clock.now(),
        )
        s.add(late)
        s.flush()
        late_id = late.id
    la = load_settings(
        home=web.settings.home,
        secret_key=SECRET,
        database_url=web.db.url,
        timezone="America/Los_Angeles",
    )
    ben = _bearer(web.tokens["sdr-ben"])
    with (
        TestClient(web.app) as utc_client,
        TestClient(create_app(web.db, la, web.clock)) as la_client,
    ):
        in_utc = {t["id"] for t in utc_client.get("/api/v1/tasks", headers=ben).json()["items"]}
        in_la = {t["id"] for t in la_client.get("/api/v1/tasks", headers=ben).json()["items"]}
    assert late_id not in in_utc and late_id in in_la
    assert in_la - in_utc == {late_id}

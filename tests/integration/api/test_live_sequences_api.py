"""REST and dashboard: the version each enrollment is on, and migrating them."""

from __future__ import annotations

from pathlib import Path

from engine.sequence_language.loader import LoadedSequence, content_hash, spec_from_json
from engine.workspace import sequences
from tests.support.web import SeededApp, TestClient


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _push_v2(web: SeededApp) -> None:
    """agencies v2: the bump is reworded and a breakup email is added."""
    with web.db.session() as s:
        spec = sequences.version_spec(sequences.get_version(s, "agencies")).model_dump(mode="json")
        spec["steps"] += [
            {"type": "wait", "id": "wait-2", "duration": "3 business days"},
            {"type": "email", "id": "breakup", "subject": "Closing the loop", "body": "Bye."},
        ]
        spec_model = spec_from_json(spec)
        loaded = LoadedSequence(Path("agencies.yaml"), "v2", spec_model, {}, content_hash("v2", {}))
        sequences.push(s, loaded, web.clock.now())


def test_enrollments_show_their_version_and_migrate_through_the_api(web: SeededApp) -> None:
    growth, sdr = _bearer(web.tokens["growth"]), _bearer(web.tokens["sdr"])
    _push_v2(web)
    with TestClient(web.app) as client:
        before = client.get("/api/v1/sequences/agencies/enrollments?state=active", headers=growth)
        dry = client.post(
            "/api/v1/sequences/agencies/migrate", json={"dry_run": True}, headers=growth
        )
        refused = client.post("/api/v1/sequences/agencies/migrate", json={}, headers=sdr)
        done = client.post("/api/v1/sequences/agencies/migrate", json={}, headers=growth)
        after = client.get("/api/v1/sequences/agencies/enrollments", headers=growth)
        missing = client.post("/api/v1/sequences/agencies/migrate", json={"to": 7}, headers=growth)
        client.post("/login", data={"token": web.tokens["admin"], "next": "/"})
        page = client.get("/sequences/agencies")
        prospect = client.get(f"/prospects/{web.scenario.prospects['p0']}")
    assert before.status_code == 200 and before.json()["current_version"] == 2
    live = before.json()["items"]
    assert live and {e["version"] for e in live} == {1}
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert sum(g["count"] for g in dry.json()["groups"]) == done.json()["migrated"] > 0
    assert refused.status_code == 403
    moved = {e["email"] for e in after.json()["items"] if e["version"] == 2}
    assert {e["email"] for e in live} <= moved
    assert missing.status_code == 404 and "has no version 7" in missing.json()["detail"]
    assert page.status_code == 200 and "Live enrollments by version" in page.text
    assert "<td>v2 (current)</td>" in page.text
    assert prospect.status_code == 200 and "<th>Version</th>" in prospect.text


def test_sequence_controls_and_bulk_actions_through_the_api(web: SeededApp) -> None:
    growth, anna, ben = (_bearer(web.tokens[k]) for k in ("growth", "sdr", "sdr-ben"))
    with TestClient(web.app) as client:
        live = client.get("/api/v1/sequences/saas-founders/enrollments", headers=growth).json()
        paused = client.post(
            "/api/v1/sequences/saas-founders/pause", json={"reason": "typo"}, headers=growth
        )
        sdr_refused = client.post("/api/v1/sequences/saas-founders/resume", headers=anna)
        held = client.get("/api/v1/sequences/saas-founders/enrollments", headers=growth).json()
        resumed = client.post("/api/v1/sequences/saas-founders/resume", headers=growth)
        foreign = client.post(
            "/api/v1/enrollments/bulk", json={"action": "pause", "owner": "ben"}, headers=anna
        )
        own = client.post(
            "/api/v1/enrollments/bulk",
            json={"action": "pause", "sequence": "saas-founders", "reason": "leave"},
            headers=ben,
        )
        bad = client.post(
            "/api/v1/enrollments/bulk",
            json={"action": "stop", "emails": ["x@y.example", "nope"]},
            headers=growth,
        )
        unknown = client.post("/api/v1/sequences/nope/pause", json={}, headers=growth)
        client.post("/login", data={"token": web.tokens["growth"], "next": "/"})
        page = client.get("/sequences/agencies")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        button = client.post(
            "/sequences/agencies/control",
            data={"action": "pause", "reason": "check copy", "csrf": csrf},
            follow_redirects=False,
        )
        after = client.get("/sequences/agencies")
    active = [e for e in live["items"] if e["state"] in ("active", "waiting")]
    assert paused.status_code == 200 and paused.json()["changed"] == len(active) > 0
    assert sdr_refused.status_code == 403
    assert {e["state"] for e in held["items"]} <= {"paused", "stopped", "finished"}
    assert resumed.json()["changed"] == len(active)
    assert foreign.status_code == 422 and "only on its own (anna)" in foreign.json()["detail"]
    bens = [e for e in live["items"] if e["owner"] == "ben" and e["state"] in ("active", "waiting")]
    assert own.status_code == 200 and own.json()["changed"] == len(bens)
    assert bad.status_code == 422 and "emails[1]: 'nope'" in bad.json()["detail"]
    assert unknown.status_code == 404
    assert button.status_code == 303
    assert "Paused: check copy." in after.text and "Resume the sequence" in after.text


def _pending_review(web: SeededApp) -> int:
    """A manual email of anna's p10 waiting for review (as the tick plans one)."""
    from engine.store.models import Enrollment, OutboundMessage

    with web.db.session() as s:
        e = s.get(Enrollment, web.scenario.enrollments["p10"])
        assert e is not None and e.mailbox_id is not None
        now = web.clock.now()
        m = OutboundMessage(
            enrollment_id=e.id, step_id="bump", prospect_id=e.prospect_id,
            mailbox_id=e.mailbox_id, sequence_id=e.sequence_id, version_id=e.version_id,
            state="planned", review="pending", to_address="ole@company10.example",
            from_address="anna@acme.example", subject="Re: hello", body_text="Hi Ole,\n",
            message_id="review-1@acme.example", references=[], headers={}, not_before=now,
            held_reason="awaiting review by anna", created_at=now, updated_at=now,
        )  # fmt: skip
        s.add(m)
        s.flush()
        return m.id


def test_manual_emails_are_reviewed_through_the_api_and_the_queue_page(web: SeededApp) -> None:
    message_id = _pending_review(web)
    anna, ben = _bearer(web.tokens["sdr"]), _bearer(web.tokens["sdr-ben"])
    with TestClient(web.app) as client:
        mine = client.get("/api/v1/reviews", headers=anna).json()
        theirs = client.get("/api/v1/reviews", headers=ben).json()
        foreign = client.post(f"/api/v1/reviews/{message_id}", json={"action": "skip"},
                              headers=ben)  # fmt: skip
        bad = client.post(f"/api/v1/reviews/{message_id}",
                          json={"action": "save", "subject": "a\r\nBcc: x@y.example"},
                          headers=anna)  # fmt: skip
        saved = client.post(f"/api/v1/reviews/{message_id}",
                            json={"action": "save", "subject": "Ole, one question"},
                            headers=anna)  # fmt: skip
        client.post("/login", data={"token": web.tokens["sdr"], "next": "/"})
        page = client.get("/queue")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        approved = client.post(
            f"/reviews/{message_id}",
            data={"action": "approve", "subject": "Ole, one question", "body": "Hi Ole!",
                  "csrf": csrf},
            follow_redirects=False,
        )  # fmt: skip
        after = client.get("/api/v1/reviews", headers=anna).json()
    assert [r["id"] for r in mine] == [message_id] and theirs == []
    assert foreign.status_code == 404
    assert bad.status_code == 422 and "without line breaks" in bad.json()["detail"]
    assert saved.json()["subject"] == "Ole, one question"
    assert "Emails to review" in page.text and 'value="Ole, one question"' in page.text
    assert approved.status_code == 303 and after == []


def test_the_forecast_in_the_api_and_on_the_mailboxes_page(web: SeededApp) -> None:
    manager = _bearer(web.tokens["manager"])
    with TestClient(web.app) as client:
        api = client.get("/api/v1/forecast?days=14", headers=manager)
        too_far = client.get("/api/v1/forecast?days=400", headers=manager)
        client.post("/login", data={"token": web.tokens["manager"], "next": "/"})
        page = client.get("/mailboxes")
    assert api.status_code == 200 and api.json()["days"] == 14
    for row in api.json()["rows"]:
        assert row["first_touches"] + row["follow_ups"] == row["planned"]
        assert row["sendable"] + row["overflow"] == row["planned"] + row["carried_in"]
    assert too_far.status_code == 422
    assert page.status_code == 200 and "Forecast: the next 14 days" in page.text

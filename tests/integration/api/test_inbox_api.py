"""The inbox over the API: each SDR sees and answers their own; managers read; notes."""

from __future__ import annotations

from sqlalchemy import select

from engine.inbound import inbox
from engine.store.models import OutboundMessage, ProspectNote
from tests.support.web import SeededApp, TestClient


def _auth(web: SeededApp, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.tokens[role]}"}


def test_sdrs_see_and_answer_their_own(web: SeededApp) -> None:
    with web.db.session() as s:
        annas = [i.id for i in inbox.items(s, owner="anna")]
        bens = [i.id for i in inbox.items(s, owner="ben")]
    assert annas
    with TestClient(web.app) as client:
        mine = client.get("/api/v1/inbox", headers=_auth(web, "sdr")).json()["items"]
        everyone = client.get("/api/v1/inbox", headers=_auth(web, "manager")).json()["items"]
        as_ben = client.post(
            f"/api/v1/inbox/{annas[0]}/reply",
            json={"text": "Hi", "key": "k1"},
            headers=_auth(web, "sdr-ben"),
        )
        as_manager = client.post(
            f"/api/v1/inbox/{annas[0]}/reply",
            json={"text": "Hi", "key": "k1"},
            headers=_auth(web, "manager"),
        )
        bad_key = client.post(
            f"/api/v1/inbox/{annas[0]}/reply",
            json={"text": "Hi", "key": "not a key"},
            headers=_auth(web, "sdr"),
        )
        ok = client.post(
            f"/api/v1/inbox/{annas[0]}/reply",
            json={"text": "Hi, happy to talk.", "key": "k1"},
            headers=_auth(web, "sdr"),
        )
        again = client.post(
            f"/api/v1/inbox/{annas[0]}/reply",
            json={"text": "Hi, happy to talk.", "key": "k1"},
            headers=_auth(web, "sdr"),
        )
        note = client.post(
            "/api/v1/prospects/erik@company0.example/notes",
            json={"text": "Prefers calls after 3pm"},
            headers=_auth(web, "sdr"),
        )
        others_note = client.post(
            "/api/v1/prospects/erik@company0.example/notes",
            json={"text": "mine now"},
            headers=_auth(web, "sdr-ben"),
        )
    assert {i["id"] for i in mine} == set(annas)
    assert {i["id"] for i in everyone} == set(annas) | set(bens)
    assert as_ben.status_code == 404 and as_manager.status_code == 403
    assert bad_key.status_code == 422
    assert ok.status_code == 200 and again.json()["message_id"] == ok.json()["message_id"]
    assert note.status_code == 200 and others_note.status_code == 404
    with web.db.session() as s:
        answers = s.scalars(
            select(OutboundMessage).where(OutboundMessage.step_id.startswith("inbox-reply:"))
        ).all()
        assert [a.body_text.splitlines()[0] for a in answers] == ["Hi, happy to talk."]
        assert [n.text for n in s.scalars(select(ProspectNote))] == ["Prefers calls after 3pm"]


def test_users_over_the_api(web: SeededApp) -> None:
    with TestClient(web.app) as client:
        added = client.post(
            "/api/v1/users",
            json={"name": "maria", "full_name": "Maria Lopez", "email": "maria@acme.example"},
            headers=_auth(web, "admin"),
        )
        by_manager = client.post("/api/v1/users", json={"name": "x"}, headers=_auth(web, "manager"))
        bad = client.post(
            "/api/v1/users", json={"name": "Not A Handle"}, headers=_auth(web, "admin")
        )
        listed = client.get("/api/v1/users", headers=_auth(web, "manager")).json()["items"]
        by_sdr = client.get("/api/v1/users", headers=_auth(web, "sdr"))
    assert added.status_code == 201 and added.json()["role"] == "sdr"
    assert by_manager.status_code == 403 and by_sdr.status_code == 403
    assert bad.status_code == 422 and "is not a user name" in bad.json()["detail"]
    assert [u["name"] for u in listed] == ["maria"]

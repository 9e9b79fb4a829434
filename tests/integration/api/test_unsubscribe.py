"""RFC 8058 one-click unsubscribe: one POST opts out, twice is fine, forgeries do nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from engine.core import unsubscribe as tokens
from engine.core.events import EventType
from engine.people import suppression
from engine.store.models import Enrollment, Event, OutboundMessage, Suppression, Task
from tests.support.seed import Seeder
from tests.support.web import SECRET, SeededApp, TestClient


def _token_for(web: SeededApp, name: str) -> tuple[str, OutboundMessage]:
    with web.db.session() as s:
        m = s.get(OutboundMessage, web.scenario.outbound[name])
        assert m is not None
        return tokens.make_token(SECRET, m.id, m.to_address), m


def _counts(web: SeededApp) -> tuple[int, int]:
    with web.db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Event)) or 0,
            s.scalar(select(func.count()).select_from(Suppression)) or 0,
        )


def test_get_shows_a_confirmation_form_and_changes_nothing(web: SeededApp) -> None:
    token, _ = _token_for(web, "p6.intro")
    before = _counts(web)
    with TestClient(web.app) as client:
        r = client.get(f"/u/{token}")
    assert r.status_code == 200
    assert f'action="/u/{token}"' in r.text and 'method="post"' in r.text
    assert "t••@company6.example" in r.text
    assert "set-cookie" not in r.headers
    assert _counts(web) == before


def test_one_click_post_suppresses_stops_and_cancels(web: SeededApp) -> None:
    token, message = _token_for(web, "p6.intro")
    with web.db.session() as s:  # a planned breakup email that must never go out
        e = s.get(Enrollment, message.enrollment_id)
        assert e is not None
        planned = Seeder(s).send(e, "breakup", web.clock.now() + timedelta(days=3))
        planned.state, planned.sent_at = "planned", None
        planned_id = planned.id
        # and a call reminder an SDR must not work any more (not blocking: the email is live)
        call = Seeder(s).task(e, None, web.clock.now() + timedelta(days=1), title="Call Tim")
        call_id = call.id
    with TestClient(web.app, follow_redirects=False) as client:
        r = client.post(
            f"/u/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        again = client.post(
            f"/u/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 200 and "You are unsubscribed" in r.text
    assert "set-cookie" not in r.headers and "location" not in r.headers
    assert again.status_code == 200 and "already unsubscribed" in again.text
    with web.db.session() as s:
        found = suppression.find(s, "tim@company6.example")
        assert found is not None and found.reason == "unsubscribe"
        e = s.get(Enrollment, message.enrollment_id)
        assert e is not None and e.state == "stopped" and e.state_reason == "unsubscribe"
        cancelled = s.get(OutboundMessage, planned_id)
        assert cancelled is not None and cancelled.state == "cancelled"
        task = s.get(Task, call_id)
        assert task is not None and task.state == "cancelled"
        unsubscribed = s.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.type == EventType.UNSUBSCRIBED, Event.prospect_id == message.prospect_id)
        )
    assert unsubscribed == 1


def test_tampered_and_foreign_tokens_do_nothing(web: SeededApp) -> None:
    token, _ = _token_for(web, "p6.intro")
    other, _ = _token_for(web, "p7.intro")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    # p7's signature on p6's message id: a valid MAC, but for someone else
    foreign = f"u1.{token.split('.')[1]}.{other.split('.')[2]}"
    forged = tokens.make_token("not-our-secret", int(token.split(".")[1]), "tim@company6.example")
    before = _counts(web)
    with TestClient(web.app) as client:
        for bad in (tampered, foreign, forged, "garbage", "u1.999999.abc"):
            r = client.post(
                f"/u/{bad}",
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert r.status_code == 400, bad
            assert "not valid" in r.text and "Nothing was changed" in r.text
            assert client.get(f"/u/{bad}").status_code == 400
    assert _counts(web) == before

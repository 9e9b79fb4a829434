"""Warm-up ramps and per-recipient-domain caps: set from the CLI and the API, applied day by day
by the real sender, and shown in `outbox`, `mailbox list` and the dashboard."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Mailbox, OutboundMessage
from tests.integration.deliverability.test_dkim_signing import invoke, kadenz
from tests.integration.sending.factory import enroll, make_prospect, make_version
from tests.support.smtp_server import SmtpSink
from tests.support.web import SeededApp, TestClient, seeded_app


def enroll_all(db: Database, clock: VirtualClock, emails: list[str]) -> None:
    with db.session() as s:
        box = s.scalars(select(Mailbox)).one()
        version = make_version(s, clock.now())
        for email in emails:
            enroll(s, clock.now(), make_prospect(s, clock.now(), email), version, box)


def test_the_warmup_ramp_is_applied_day_by_day_and_shown_in_outbox(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    kadenz(
        settings, db, "mailbox", "add", "anna", "--address", "anna@acme.example",
        "--smtp", sink.url, "--daily-cap", "30", "--timezone", "Europe/Berlin",
        "--warmup-from", "2", "--warmup-step", "1", "--warmup-start", "2026-03-02",
    )  # fmt: skip
    listed = kadenz(settings, db, "mailbox", "list", clock=clock)
    assert "warm-up day 1: 2/day today, +1 a day, full 30/day on 2026-03-30" in listed
    enroll_all(db, clock, [f"p{i}@firm{i}.example" for i in range(6)])

    tick(db, clock, settings)
    assert send_due(db, clock, settings).sent == 2  # Monday: the ramp's 2
    out = kadenz(settings, db, "outbox", clock=clock)
    assert "anna: warm-up day 1: 2/day today, +1 a day, full 30/day on 2026-03-30" in out
    assert "ramp: Mon 03-02 2, Tue 03-03 3, Wed 03-04 4" in out
    assert out.count("daily cap 2 reached for mailbox anna") == 4

    clock.advance(timedelta(days=1))
    assert send_due(db, clock, settings).sent == 3  # Tuesday: 3
    assert "warm-up day 2: 3/day today" in kadenz(settings, db, "outbox", clock=clock)
    clock.advance(timedelta(days=1))
    assert send_due(db, clock, settings).sent == 1  # the last one; Wednesday allowed 4
    assert len(sink.messages) == 6


def test_a_per_domain_cap_spreads_one_company_over_days(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    kadenz(
        settings, db, "mailbox", "add", "anna", "--address", "anna@acme.example",
        "--smtp", sink.url, "--per-domain-cap", "1",
    )  # fmt: skip
    enroll_all(db, clock, ["a@bigco.example", "b@bigco.example", "c@other.example"])
    tick(db, clock, settings)
    assert send_due(db, clock, settings).sent == 2
    with db.session() as s:
        (held,) = s.scalars(select(OutboundMessage).where(OutboundMessage.sent_at.is_(None)))
        assert (held.held_reason or "").startswith(
            "per-domain cap 1/day reached for bigco.example on mailbox anna"
        )
    kadenz(settings, db, "mailbox", "update", "anna", "--no-per-domain-cap")
    with db.session() as s:
        assert s.scalars(select(Mailbox)).one().per_domain_daily_cap is None


def test_bad_warmup_options_get_one_line(db: Database, settings: Settings) -> None:
    result = invoke(
        settings, db, "mailbox", "add", "anna", "--address", "anna@acme.example",
        "--smtp", "smtp://127.0.0.1:2525", "--warmup-start", "2026-02-30", "--warmup-from", "5",
    )  # fmt: skip
    assert str(result.exception) == "--warmup-start: '2026-02-30' is not a date (write 2026-03-01)"


def test_caps_and_warmup_through_the_api_and_on_the_dashboard(db: Database, tmp_path) -> None:
    web: SeededApp = seeded_app(db, tmp_path)
    admin = {"Authorization": f"Bearer {web.tokens['admin']}"}
    with db.session() as s:
        name = s.scalars(select(Mailbox.name).order_by(Mailbox.name)).first()
    assert name is not None
    start = web.clock.now().date() - timedelta(days=2)
    with TestClient(web.app) as client:
        r = client.patch(
            f"/api/v1/mailboxes/{name}",
            json={
                "daily_cap": 40,
                "per_domain_daily_cap": 3,
                "warmup": {"start": start.isoformat(), "from": 10, "step": 5},
            },
            headers=admin,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["cap_today"], body["per_domain_daily_cap"]) == (20, 3)  # day 3: 10+5+5
        assert body["ramp"][:3] == [
            {"day": (start + timedelta(days=2)).isoformat(), "cap": 20},
            {"day": (start + timedelta(days=3)).isoformat(), "cap": 25},
            {"day": (start + timedelta(days=4)).isoformat(), "cap": 30},
        ]
        sdr = client.patch(
            f"/api/v1/mailboxes/{name}",
            json={"daily_cap": 400},
            headers={"Authorization": f"Bearer {web.tokens['sdr']}"},
        )
        assert sdr.status_code == 403
        listed = client.get("/api/v1/mailboxes", headers=admin).json()
        assert next(m for m in listed if m["name"] == name)["cap_today"] == 20

        client.post("/login", data={"token": web.tokens["manager"], "next": "/"})
        page = client.get("/mailboxes").text
    assert "warm-up day 3: 20/day today, +5 a day" in page
    assert "3/day per recipient domain" in page
    assert "Sending domains" in page and "not signed" in page
    assert "kadenz domain add kadenz-demo.example" in page

"""Consent by jurisdiction: with DE: consent_required a German prospect without consent gets no
email — in `simulate` and in a real run to a real SMTP server — and `explain` says why; with
consent recorded (CSV import or `consent record`) they do. Skipping, GB, the postal address."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import OutboundMessage, Prospect, Task
from tests.integration.deliverability.test_dkim_signing import invoke, kadenz
from tests.integration.sending.factory import (
    BASIC_SPEC,
    enroll,
    make_mailbox,
    make_prospect,
    make_version,
    received,
)
from tests.support.smtp_server import SmtpSink

POLICY = Path(__file__).parents[3] / "policies" / "consent.yaml"
SEQUENCE = """\
key: consent-demo
name: Consent demo
mailboxes: [anna]
schedule: {timezone: Europe/Berlin, window: Mon-Fri 09:00-17:00}
steps:
  - id: intro
    email: {subject: "Hello {{ first_name }}", body: "Hi {{ first_name }}, a question."}
  - wait: 1 day
  - id: call-1
    call: {title: "Call {{ first_name }}"}
"""


def world(db: Database, clock: VirtualClock, sink: SmtpSink, people: dict[str, dict[str, str]]):
    with db.session() as s:
        box = make_mailbox(s, clock.now(), smtp_url=sink.url)
        version = make_version(s, clock.now())
        for email, fields in people.items():
            enroll(s, clock.now(), make_prospect(s, clock.now(), email, **fields), version, box)


def run(db: Database, clock: VirtualClock, settings: Settings) -> None:
    tick(db, clock, settings)
    send_due(db, clock, settings)


def recipients(sink: SmtpSink) -> set[str]:
    return {r for m in sink.messages for r in m.rcpt_tos}


def test_a_german_prospect_without_consent_gets_no_email_until_it_is_recorded(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    kadenz(settings, db, "consent", "push", str(POLICY))
    world(db, clock, sink, {"jana@gamma.example": {"country": "DE"},
                            "tom@delta.example": {"country": "US"}})  # fmt: skip
    run(db, clock, settings)
    assert recipients(sink) == {"tom@delta.example"}  # opt_out: allowed

    with db.session() as s:
        held = s.scalars(
            select(OutboundMessage).where(OutboundMessage.to_address == "jana@gamma.example")
        ).one()
        assert held.state == MessageState.PLANNED
        assert held.held_reason is not None and held.held_reason.startswith(
            "consent: DE (country) requires prior consent (consent_required) and none is recorded"
        )
    out = kadenz(settings, db, "explain", "jana@gamma.example")
    assert (
        "consent: DE (country) requires prior consent (consent_required) and none is recorded"
    ) in out
    assert "no email is sent until consent is recorded" in out
    assert "held by: consent: DE (country)" in out
    report = json.loads(kadenz(settings, db, "report", "--format", "json"))
    assert report["held"]["held_for_consent"] == 1

    kadenz(settings, db, "consent", "record", "jana@gamma.example", "--source", "webinar-2026-02",
           "--date", "2026-02-20", clock=clock)  # fmt: skip
    send_due(db, clock, settings)  # released at once, not after the re-check interval
    assert recipients(sink) == {"tom@delta.example", "jana@gamma.example"}
    assert "allowed: consent recorded 2026-02-20 (webinar-2026-02)" in kadenz(
        settings, db, "explain", "jana@gamma.example"
    )
    assert json.loads(kadenz(settings, db, "report", "--format", "json"))["held"] == {
        "held_for_consent": 0,
        "skipped_for_consent": 0,
        "held_for_postal_address": 0,
    }


def test_simulate_sends_no_email_to_a_german_prospect_without_consent(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    sequence = tmp_path / "consent-demo.yaml"
    sequence.write_text(SEQUENCE)
    csv = tmp_path / "people.csv"
    csv.write_text(
        "email,first_name,country,consent_source,consent_date\n"
        "jana@gamma.example,Jana,DE,,\n"
        "erik@beta.example,Erik,DE,fair-2026,2026-01-15\n"
        "tom@delta.example,Tom,US,,\n"
    )
    result = invoke(
        settings, db, "simulate", str(sequence), "--prospects", str(csv), "--start",
        "2026-03-02", "--days", "5", "--format", "json", "--consent-policy", str(POLICY),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)
    emails = {a["prospect"] for a in actions if a["type"] == "email"}
    assert emails == {"erik@beta.example", "tom@delta.example"}
    assert "not sent: jana@gamma.example intro: consent: DE (country) requires" in result.stderr
    # hold: the sequence waits for the email, so Jana gets no call either
    assert {a["prospect"] for a in actions if a["type"] == "call"} == emails


def test_skip_email_lets_the_calls_go_on_and_the_report_counts_it(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "consent:\n  default: opt_out\n  countries: {AT: consent_required}\n"
        "  without_consent: skip_email\n"
    )
    kadenz(settings, db, "consent", "push", str(policy))
    spec = {**BASIC_SPEC, "steps": [
        BASIC_SPEC["steps"][0],
        {"id": "wait-1", "type": "wait", "duration": "1 day"},
        {"id": "call-1", "type": "call", "title": "Call {{ first_name }}"},
    ]}  # fmt: skip
    with db.session() as s:
        box = make_mailbox(s, clock.now(), smtp_url=sink.url)
        version = make_version(s, clock.now(), spec)
        enroll(s, clock.now(), make_prospect(s, clock.now(), "max@firma.at"), version, box)
    run(db, clock, settings)  # no country: the .at address decides
    assert sink.messages == []
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
        assert message.state == MessageState.CANCELLED
        assert (message.held_reason or "").startswith("consent: AT (.at address) requires")
    assert "emails are skipped, calls and tasks go on" in kadenz(
        settings, db, "explain", "max@firma.at"
    )
    for _ in range(3):
        clock.advance(timedelta(days=1))
        run(db, clock, settings)
    with db.session() as s:
        assert [t.step_id for t in s.scalars(select(Task))] == ["call-1"]
    report = json.loads(kadenz(settings, db, "report", "--format", "json"))
    assert report["held"]["skipped_for_consent"] == 1


def test_gb_corporate_addresses_are_opt_out_personal_ones_need_consent(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    kadenz(settings, db, "consent", "push", str(POLICY))
    world(db, clock, sink, {"olivia@widgets.example": {"country": "GB"},
                            "olivia.w@gmail.com": {"country": "GB"}})  # fmt: skip
    run(db, clock, settings)
    assert recipients(sink) == {"olivia@widgets.example"}
    out = kadenz(settings, db, "explain", "olivia.w@gmail.com")
    assert "GB (country) needs consent for a personal address (gmail.com)" in out


def test_the_postal_address_footer_is_enforced_where_the_policy_says(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    kadenz(settings, db, "consent", "push", str(POLICY))
    world(db, clock, sink, {"tom@delta.example": {"country": "US"}})
    no_address = settings.model_copy(update={"postal_address": ""})
    run(db, clock, no_address)
    assert sink.messages == []
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
        assert (message.held_reason or "").startswith(
            "postal address: the consent policy requires a postal address in emails to US"
        )
    clock.advance(timedelta(hours=2))
    send_due(db, clock, settings)  # KADENZ_POSTAL_ADDRESS set now
    (sent,) = received(sink)
    body = sent.get_body(("plain",))
    assert body is not None and settings.postal_address in body.get_content()


def test_consent_comes_in_with_a_csv_import(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    csv = tmp_path / "crm.csv"
    csv.write_text(
        "Email,First Name,Country,Opt-in Source,Consent Date\n"
        "jana@gamma.example,Jana,Germany,webinar-2026-02,20.02.2026\n"
        "erik@beta.example,Erik,DE,,not a date\n"
    )
    out = kadenz(settings, db, "prospects", "import", str(csv))
    assert "'not a date' is not a date; imported without consent" in out
    with db.session() as s:
        people = {p.email: p for p in s.scalars(select(Prospect))}
    jana = people["jana@gamma.example"]
    assert (jana.consent_source, str(jana.consent_date)) == ("webinar-2026-02", "2026-02-20")
    assert people["erik@beta.example"].consent_date is None


def test_a_bad_policy_file_gets_one_line_naming_the_key(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("consent:\n  countries:\n    DE: consent_requird\n")
    result = invoke(settings, db, "consent", "validate", str(bad))
    assert result.exit_code == 1
    assert str(result.exception) == (
        f"{bad}: consent: countries.DE: 'consent_requird' is not a rule "
        "(use consent_required, opt_out, opt_out_corporate)"
    )


def test_consent_through_the_api(db: Database, tmp_path: Path) -> None:
    from tests.support.web import TestClient, seeded_app

    web = seeded_app(db, tmp_path)
    sdr = {"Authorization": f"Bearer {web.tokens['sdr']}"}
    with db.session() as s:
        email = s.scalars(select(Prospect.email).order_by(Prospect.id)).first()
    assert email is not None
    with TestClient(web.app) as client:
        put = client.put(
            f"/api/v1/prospects/{email}/consent",
            json={"source": "form:demo", "date": "2026-03-01"},
            headers=sdr,
        )
        bad = client.put(
            f"/api/v1/prospects/{email}/consent",
            json={"source": "form:demo", "date": "yesterday"},
            headers=sdr,
        )
        gone = client.delete(f"/api/v1/prospects/{email}/consent", headers=sdr)
    assert put.status_code == 200, put.text
    assert put.json()["consent_date"] == "2026-03-01"
    assert bad.status_code == 422 and "'yesterday' is not a date" in bad.text
    assert gone.json()["consent_date"] is None
    with db.session() as s:
        prospect = s.scalars(select(Prospect).where(Prospect.email == email)).one()
        assert (prospect.consent_source, prospect.consent_date) == (None, None)


def test_a_joined_policy_document_stores_its_consent_section(
    db: Database, clock: VirtualClock
) -> None:
    from engine.people import consent, consent_records

    joined = {
        "limits": {"per_account_weekly": 3},
        "consent": {"countries": {"DE": "consent_required"}},
    }
    with db.session() as s:
        consent_records.push_section(
            s, joined["consent"], "# policy.yaml", "policy.yaml: consent", clock.now()
        )
    with db.session() as s:
        loaded = consent_records.load(s)
    assert loaded is not None and loaded.rule_for("DE") == consent.Rule.CONSENT_REQUIRED

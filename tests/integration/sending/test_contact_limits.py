"""Contact limits across sequences: two sequences, one prospect, `per_person: 1 email per 2
business days`. A real run (tick + send to an SMTP sink) and `simulate` send the second email
two business days after the first, and `explain` says why it waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.outbound.explain import explain_prospect
from engine.outbound.outbox import outbox
from engine.outbound.send import send_due
from engine.outbound.simulate import SequenceInput, simulate
from engine.outbound.tick import tick
from engine.people import enrollment as enrolling
from engine.sequence_language.loader import LoadedSequence, load_sequence
from engine.sequence_language.policy import load_policy
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import OutboundMessage
from engine.workspace import policy as stored_policy
from engine.workspace import sequences
from tests.integration.sending.factory import make_mailbox, make_prospect
from tests.integration.sending.test_migration import _drive

NURTURE = """\
key: nurture
name: Nurture
mailboxes: [anna]
schedule: {timezone: Europe/Berlin, window: "Mon-Fri 09:00-17:00"}
steps:
  - id: intro
    email: {subject: "Hi {{ first_name }}", body: "A question, {{ first_name }}."}
"""
EVENT = (
    NURTURE.replace("key: nurture", "key: event-invite")
    .replace("name: Nurture", "name: Event invite")
    .replace("id: intro", "id: invite")
)
POLICY = """\
contact_limits:
  per_person: {emails: 1, per: 2 business days}
"""
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
WEDNESDAY = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)  # two business days later, 09:00 Berlin


def _files(tmp_path: Path) -> tuple[list[LoadedSequence], Path]:
    loaded = []
    for name, text in (("nurture", NURTURE), ("event", EVENT)):
        (tmp_path / f"{name}.yaml").write_text(text)
        loaded.append(load_sequence(tmp_path / f"{name}.yaml", tmp_path))
    (tmp_path / "policy.yaml").write_text(POLICY)
    return loaded, tmp_path / "policy.yaml"


def test_a_real_run_sends_the_second_email_two_business_days_after_the_first(
    db: Database, clock: VirtualClock, settings: Settings, sink: object, tmp_path: Path
) -> None:
    loaded, policy_file = _files(tmp_path)
    with db.session() as s:
        make_mailbox(s, clock.now(), smtp_url=sink.url)  # type: ignore[attr-defined]
        make_prospect(s, clock.now(), "erik@beta.example")
        for one in loaded:
            sequences.push(s, one, clock.now())
        stored_policy.push(s, load_policy(policy_file), clock.now())
        for key in ("nurture", "event-invite"):
            enrolling.enroll(s, key, ["erik@beta.example"], at=clock.now())
    tick(db, clock, settings)
    first = send_due(db, clock, settings)
    assert (first.sent, first.held) == (1, 1)
    with db.session() as s:
        why = explain_prospect(s, "erik@beta.example", clock.now())
        waiting = [m for m in outbox(s) if m.state == "planned"]
    holds = [h for e in why.enrollments for h in e.holds]
    assert any(
        h.startswith("contact limit: 1 email per 2 business days per person;")
        and "2026-03-02 09:00 was the last" in h
        and "next 2026-03-04 09:00 Europe/Berlin" in h
        for h in holds
    ), holds
    assert len(waiting) == 1 and waiting[0].not_before == WEDNESDAY
    assert waiting[0].why.startswith("contact limit: 1 email per 2 business days per person;")

    _drive(db, clock, settings, MONDAY + timedelta(days=7))
    with db.session() as s:
        sent = sorted(
            s.scalars(select(OutboundMessage.sent_at).where(OutboundMessage.state == "sent"))
        )
    assert sent == [MONDAY, WEDNESDAY]
    assert len(sink.messages) == 2  # type: ignore[attr-defined]


def test_simulate_applies_the_same_policy_across_the_sequences(tmp_path: Path) -> None:
    loaded, policy_file = _files(tmp_path)
    inputs = [
        SequenceInput(
            one.spec.key,
            one.spec.name,
            one.spec.model_dump(mode="json"),
            dict(one.templates),
            list(one.spec.mailboxes),
        )
        for one in loaded
    ]
    people = [{"email": "erik@beta.example", "first_name": "Erik", "timezone": "Europe/Berlin",
               "custom": {}}]  # fmt: skip
    limited = simulate(
        inputs[0], people, MONDAY, 7, also=inputs[1:], policy=load_policy(policy_file)
    )
    free = simulate(inputs[0], people, MONDAY, 7, also=inputs[1:])
    assert [a.at for a in limited] == [MONDAY, WEDNESDAY]
    assert [a.held.split(";")[0] for a in limited] == [
        "",
        "contact limit: 1 email per 2 business days per person",
    ]
    assert {a.sequence for a in limited} == {"nurture", "event-invite"}
    assert [a.at for a in free] == [MONDAY, MONDAY]  # without the policy: both on Monday


def test_per_account_counts_people_at_one_company_but_never_free_mail(
    db: Database, clock: VirtualClock, settings: Settings, sink: object, tmp_path: Path
) -> None:
    loaded, policy_file = _files(tmp_path)
    policy_file.write_text("contact_limits:\n  per_account: {people: 1, per: 1 week}\n")
    people = ["erik@beta.example", "jana@beta.example", "li@gmail.com", "ola@gmail.com"]
    with db.session() as s:
        make_mailbox(s, clock.now(), smtp_url=sink.url)  # type: ignore[attr-defined]
        for email in people:
            make_prospect(s, clock.now(), email)
        sequences.push(s, loaded[0], clock.now())
        stored_policy.push(s, load_policy(policy_file), clock.now())
        enrolling.enroll(s, "nurture", people, at=clock.now())
    tick(db, clock, settings)
    report = send_due(db, clock, settings)
    assert (report.sent, report.held) == (3, 1)
    with db.session() as s:
        held = s.scalars(select(OutboundMessage).where(OutboundMessage.state == "planned")).one()
    assert held.to_address.endswith("@beta.example")
    assert held.held_reason is not None and held.held_reason.startswith(
        "contact limit: 1 person per 7 days at one company; 1 at beta.example already"
    )
    assert held.not_before == MONDAY + timedelta(days=7)


def test_concurrent_sequences_per_person_refuses_a_second_enrollment(
    db: Database, clock: VirtualClock, tmp_path: Path
) -> None:
    loaded, policy_file = _files(tmp_path)
    policy_file.write_text("concurrent_sequences_per_person: 1\n")
    with db.session() as s:
        make_mailbox(s, clock.now())
        make_prospect(s, clock.now(), "erik@beta.example")
        for one in loaded:
            sequences.push(s, one, clock.now())
        stored_policy.push(s, load_policy(policy_file), clock.now())
        assert enrolling.enroll(s, "nurture", ["erik@beta.example"], at=clock.now()).enrolled
        second = enrolling.enroll(s, "event-invite", ["erik@beta.example"], at=clock.now())
    assert second.enrolled == []
    assert str(second.refused[0]) == (
        "erik@beta.example: already live in 1 sequence(s) (nurture); the workspace policy "
        "allows 1 at once (concurrent_sequences_per_person) (fix: stop one first (kadenz "
        "enrollment stop), or raise the limit in the policy)"
    )

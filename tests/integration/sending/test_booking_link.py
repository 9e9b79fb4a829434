"""`{{ sender.booking_link }}`: the link of the user who owns the sending mailbox, in the
email a real SMTP server receives; a sender without one holds the email with the reason
(`kadenz explain`) and a task — never an empty link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import EnrollmentState, TaskState
from engine.outbound.explain import explain_prospect
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.people import enrollment as enrolling
from engine.people import users
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, OutboundMessage, Task
from engine.workspace import sequences
from tests.integration.sending.factory import (
    BASIC_SPEC,
    enroll,
    make_mailbox,
    make_prospect,
    make_version,
    received,
)
from tests.support.smtp_server import SmtpSink

SPEC: dict[str, Any] = {
    **BASIC_SPEC,
    "mailboxes": ["maria-box", "tom-box"],
    "steps": [
        {
            "id": "intro",
            "type": "email",
            "subject": "Quick question, {{ first_name }}",
            "template": "intro.md.j2",
        }
    ],
}
TEMPLATES = {
    "intro.md.j2": "Hi {{ first_name }},\n\npick a time: {{ sender.booking_link }}\n\n"
    "{{ sender.first_name }}\n"
}
LINK = "https://cal.example/maria/30min"


def _world(db: Database, clock: VirtualClock, sink: SmtpSink) -> None:
    at = clock.now()
    with db.session() as s:
        users.add(s, "maria", at=at, full_name="Maria Lopez", booking_link=LINK)
        users.add(s, "tom", at=at, full_name="Tom Berger")  # no booking link
        maria = make_mailbox(s, at, "maria-box", owner="maria", smtp_url=sink.url,
                             display_name="Maria Lopez", address="maria@acme.example")  # fmt: skip
        tom = make_mailbox(s, at, "tom-box", owner="tom", smtp_url=sink.url,
                           display_name="Tom Berger", address="tom@acme.example")  # fmt: skip
        version = make_version(s, at, SPEC, TEMPLATES)
        enroll(s, at, make_prospect(s, at, "erik@beta.example", owner="maria"), version, maria)
        enroll(s, at, make_prospect(s, at, "jana@gamma.example", owner="tom"), version, tom)


def test_the_email_carries_the_senders_booking_link_and_a_missing_one_holds(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    _world(db, clock, sink)
    report = tick(db, clock, settings)
    assert (report.emails_planned, report.paused) == (1, 1)
    clock.set(clock.now() + timedelta(minutes=1))
    assert send_due(db, clock, settings).sent == 1
    (email,) = received(sink)
    assert "erik@beta.example" in str(email["To"])
    plain = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert plain is not None and f"pick a time: {LINK}" in plain.get_content()
    assert html is not None and f'<a href="{LINK}">' in html.get_content()

    with db.session() as s:
        held = s.scalars(select(Enrollment).where(Enrollment.state == EnrollmentState.PAUSED)).one()
        assert held.state_reason is not None
        assert held.state_reason.startswith("missing variable: sender.booking_link")
        assert "kadenz user update tom --booking-link URL" in held.state_reason
        assert s.scalars(select(OutboundMessage).where(
            OutboundMessage.enrollment_id == held.id)).first() is None  # fmt: skip
        task = s.scalars(select(Task).where(Task.enrollment_id == held.id)).one()
        assert (task.owner, task.state) == ("tom", TaskState.OPEN)
        assert "sender.booking_link" in task.title
        assert "kadenz user update tom --booking-link URL" in (task.notes or "")
        why = explain_prospect(s, "jana@gamma.example", clock.now())
    (line,) = why.enrollments
    assert any("sender.booking_link" in h and "tom" in h for h in line.holds)
    assert sink.data_received == 1  # nothing went to Jana


def test_a_booking_link_added_later_is_used_after_resume(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    _world(db, clock, sink)
    tick(db, clock, settings)
    with db.session() as s:
        users.update(s, "tom", booking_link="https://cal.example/tom")
        enrolling.resume(s, "jana@gamma.example", "saas-founders", at=clock.now())
    tick(db, clock, settings)
    clock.set(clock.now() + timedelta(minutes=1))
    send_due(db, clock, settings)
    (jana,) = [m for m in received(sink) if "jana@gamma.example" in str(m["To"])]
    body = jana.get_body(("plain",))
    assert body is not None and "pick a time: https://cal.example/tom" in body.get_content()


def test_enrolling_warns_and_preview_names_the_missing_link(
    db: Database, clock: VirtualClock, sink: SmtpSink
) -> None:
    at = clock.now()
    with db.session() as s:
        users.add(s, "maria", at=at, booking_link=LINK)
        users.add(s, "tom", at=at)
        make_mailbox(s, at, "maria-box", owner="maria", smtp_url=sink.url)
        make_mailbox(s, at, "tom-box", owner="tom", smtp_url=sink.url)
        make_version(s, at, {**SPEC, "mailboxes": "owner"}, TEMPLATES)
        make_prospect(s, at, "erik@beta.example", owner="maria")
        make_prospect(s, at, "jana@gamma.example", owner="tom")
    with db.session() as s:
        result = enrolling.enroll(
            s, "saas-founders", ["erik@beta.example", "jana@gamma.example"], at=at
        )
        erik = sequences.preview(s, "saas-founders", "erik@beta.example")
        jana = sequences.preview(s, "saas-founders", "jana@gamma.example")
    assert [e for e, _ in result.enrolled] == ["erik@beta.example", "jana@gamma.example"]
    (warning,) = result.warnings
    assert warning.email == "jana@gamma.example"
    assert "sender.booking_link" in warning.reason
    assert "kadenz user update tom --booking-link URL" in warning.fix
    (erik_email,) = [i for i in erik.items if isinstance(i, sequences.PreviewEmail)]
    (jana_email,) = [i for i in jana.items if isinstance(i, sequences.PreviewEmail)]
    assert erik_email.text is not None and LINK in erik_email.text
    assert jana_email.missing == ["sender.booking_link"] and jana_email.text is None


def test_simulate_renders_the_link_and_lists_the_email_a_missing_one_holds() -> None:
    from engine.outbound.simulate import SequenceInput, simulate
    from tests.integration.sending.factory import spec_json

    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin
    sequence = SequenceInput("saas-founders", "SaaS founders", spec_json(SPEC), TEMPLATES,
                             ["maria-box", "tom-box"])  # fmt: skip
    people = [
        {"email": "erik@beta.example", "first_name": "Erik", "custom": {}, "mailbox": "maria-box"},
        {"email": "jana@gamma.example", "first_name": "Jana", "custom": {}, "mailbox": "tom-box"},
    ]
    boxes = {"maria-box": {"owner": "maria"}, "tom-box": {"owner": "tom"}}
    held: list[str] = []
    actions = simulate(sequence, people, start, 3, mailbox_settings=boxes, held=held,
                       booking_links={"maria": LINK, "tom": None})  # fmt: skip
    assert [(a.prospect, a.step) for a in actions] == [("erik@beta.example", "intro")]
    (line,) = held
    assert line.startswith("jana@gamma.example intro: missing variable: sender.booking_link")
    assert "kadenz user update tom --booking-link URL" in line
    # With the link known, both go out.
    held.clear()
    actions = simulate(sequence, people, start, 3, mailbox_settings=boxes, held=held,
                       booking_links={"maria": LINK, "tom": "https://cal.example/tom"})  # fmt: skip
    assert len(actions) == 2 and held == []

"""Polling a real IMAP server (Debian's Dovecot on localhost) into both databases.

A reply to a sent email stops the sequence, an out-of-office pauses and then resumes, a
bounce suppresses the address; checkpoints make a re-poll fetch nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.inbound import poll
from engine.inbound.ingest import default_classifier, headers_only
from engine.people import suppression
from engine.people.resume import resume_due
from engine.store.db import Database
from engine.store.models import Enrollment, Event, ImapCheckpoint, Mailbox
from tests.conftest import missing
from tests.support.imap_server import Dovecot, dovecot_available
from tests.support.inbound_world import (
    dsn,
    enroll_and_send,
    german_reply,
    make_world,
    out_of_office,
    reply,
    standin_classify,
    unsubscribe_mail,
)

PASSWORD_ENV = "KADENZ_TEST_IMAP_PASSWORD"


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    if not dovecot_available():
        missing("Dovecot (apt-get install dovecot-imapd)")
    with Dovecot(tmp_path_factory.mktemp("dovecot")) as server:
        yield server


def _classifier() -> Callable[[bytes], object] | None:
    """The real classifier once merged; until then the stdlib stand-in."""
    return None if default_classifier() is not headers_only else standin_classify


def _state(db: Database, enrollment_id: int) -> Enrollment:
    with db.session() as s:
        row = s.get(Enrollment, enrollment_id)
        assert row is not None
        return row


def test_poll_real_imap_stops_pauses_resumes_and_suppresses(
    db: Database, clock: VirtualClock, dovecot: Dovecot, request: pytest.FixtureRequest
) -> None:
    folder = f"Replies{request.node.callspec.id}"  # one folder per database run
    client = dovecot.client()
    try:
        client.create(folder)
    finally:
        client.logout()
    world = make_world(db, clock.now())
    with db.session() as s:
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        mailbox.imap_url = dovecot.url
        mailbox.password_env = PASSWORD_ENV
        mailbox.imap_folders = [folder]
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    jana = enroll_and_send(db, world, clock.now(), "jana@beta.example", first_name="Jana")
    kai = enroll_and_send(db, world, clock.now(), "kai@gamma.example", first_name="Kai")
    the_reply = german_reply(erik, at=clock.now())
    dovecot.append(folder, the_reply)
    dovecot.append(folder, out_of_office(jana, date(2026, 3, 13), at=clock.now()))
    dovecot.append(folder, dsn(kai, at=clock.now()))
    env = {PASSWORD_ENV: dovecot.password}
    classify = _classifier()

    [report] = poll.poll_all(db, clock, classifier=classify, env=env)

    assert report.error is None, report.error
    assert (report.fetched, report.ingested, report.failed) == (3, 3, 0)
    assert report.kinds == {"human_reply": 1, "auto_reply": 1, "hard_bounce": 1}
    assert _state(db, erik.enrollment_id).state == "stopped"
    assert _state(db, jana.enrollment_id).state == "paused"
    assert _state(db, kai.enrollment_id).state == "stopped"
    with db.session() as s:
        assert suppression.find(s, kai.email) is not None
        checkpoint = s.scalars(select(ImapCheckpoint)).one()
        assert (checkpoint.folder, checkpoint.last_uid) == (folder, 3)

    again = poll.poll_mailbox(db, clock, world.mailbox_id, classifier=classify, env=env)
    assert (again.fetched, again.ingested) == (0, 0)
    dovecot.append(folder, the_reply)  # the same message delivered twice (a new UID)
    third = poll.poll_mailbox(db, clock, world.mailbox_id, classifier=classify, env=env)
    assert (third.fetched, third.ingested, third.duplicates) == (1, 0, 1)

    clock.set(datetime(2026, 3, 16, 8, tzinfo=UTC))  # Monday after the return, 09:00 Berlin
    assert resume_due(db, clock) == 1
    assert _state(db, jana.enrollment_id).state == "active"


def test_wrong_password_is_reported_not_raised(
    db: Database, clock: VirtualClock, dovecot: Dovecot
) -> None:
    world = make_world(db, clock.now())
    with db.session() as s:
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        mailbox.imap_url = dovecot.url
        mailbox.password_env = PASSWORD_ENV
    [report] = poll.poll_all(db, clock, env={PASSWORD_ENV: "wrong"})
    assert report.error is not None and report.fetched == 0
    assert "wrong" not in report.error  # never the password itself


def test_unsubscribe_by_mail_through_imap(
    db: Database, clock: VirtualClock, dovecot: Dovecot, request: pytest.FixtureRequest
) -> None:
    """Issue 16: the mailto unsubscribe, polled; a second one and a quoting reply change nothing."""
    if default_classifier() is headers_only:
        pytest.skip("needs the real classifier")
    folder = f"Unsubscribe{request.node.callspec.id}"
    client = dovecot.client()
    try:
        client.create(folder)
    finally:
        client.logout()
    world = make_world(db, clock.now())
    with db.session() as s:
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        mailbox.imap_url = dovecot.url
        mailbox.password_env = PASSWORD_ENV
        mailbox.imap_folders = [folder]
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    jana = enroll_and_send(db, world, clock.now(), "jana@beta.example", first_name="Jana")
    dovecot.append(folder, unsubscribe_mail(erik.email, at=clock.now()))
    dovecot.append(folder, unsubscribe_mail(erik.email, subject="STOP", at=clock.now()))
    quoting = "Let's talk Thursday.\n\nOn Mon, Anna wrote:\n> Reply 'unsubscribe' to opt out.\n"
    dovecot.append(folder, reply(jana, quoting, at=clock.now()))
    env = {PASSWORD_ENV: dovecot.password}

    [report] = poll.poll_all(db, clock, env=env)

    assert report.error is None, report.error
    assert (report.fetched, report.ingested, report.failed) == (3, 3, 0)
    assert _state(db, erik.enrollment_id).state == "stopped"
    assert _state(db, jana.enrollment_id).state == "stopped"  # a reply, not an opt-out
    with db.session() as s:
        assert suppression.find(s, erik.email) is not None
        assert suppression.find(s, jana.email) is None
        opt_outs = s.scalars(select(Event).where(Event.type == EventType.UNSUBSCRIBED.value)).all()
        assert [e.data["via"] for e in opt_outs] == ["mail"]

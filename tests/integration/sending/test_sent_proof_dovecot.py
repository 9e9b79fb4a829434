"""Ambiguous sends resolved by proof against a real IMAP server (Debian's Dovecot): the copy
in the mailbox's Sent folder (found by its RFC 6154 `\\Sent` mark) makes a message `sent`;
no copy, on a provider that files every submission, after the grace period, plans it
again — and then it goes out once, with its own Message-ID; otherwise a person decides."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli.main import app
from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.mail.compose import OutgoingEmail, build_mime
from engine.outbound.outcomes import mark_ambiguous
from engine.outbound.send import send_due
from engine.outbound.sent_proof import resolve_by_proof
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Mailbox, OutboundMessage
from tests.conftest import missing
from tests.integration.sending.factory import advance_to_due, build_world
from tests.support.imap_server import Dovecot, dovecot_available
from tests.support.smtp_server import SmtpSink

PASSWORD_ENV = "KADENZ_TEST_SENT_PASSWORD"
EMAILS = ["erik@beta.example", "jana@gamma.example", "kai@delta.example"]


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    if not dovecot_available():
        missing("Dovecot (apt-get install dovecot-imapd)")
    with Dovecot(tmp_path_factory.mktemp("dovecot-sent")) as server:
        yield server


def _filed_copy(m: OutboundMessage) -> bytes:
    """The message as the provider files a submission in Sent: our own MIME, as sent."""
    return build_mime(
        OutgoingEmail(
            from_address=m.from_address,
            from_name=None,
            to_address=m.to_address,
            to_name=None,
            subject=m.subject,
            text=m.body_text,
            html=None,
            message_id=m.message_id,
            unsubscribe_url="https://kadenz.acme.example/u/x",
            date=m.updated_at,
        )
    )


def _states(db: Database) -> list[str]:
    with db.session() as s:
        return [m.state for m in s.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]


def test_sent_folder_proves_delivery_and_absence(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    sink: SmtpSink,
    dovecot: Dovecot,
    tmp_path: Path,
) -> None:
    with db.session() as s:
        world = build_world(s, clock.now(), EMAILS, smtp_url=sink.url)
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        mailbox.imap_url, mailbox.password_env = dovecot.url, PASSWORD_ENV
    tick(db, clock, settings)
    advance_to_due(db, clock)
    with db.session() as s:  # three sends whose transactions began and whose end is unknown
        messages = list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
        for m in messages:
            m.state = MessageState.SENDING
            mark_ambiguous(s, m, clock.now(), "connection lost after the message was sent")
    first, second, third = messages
    dovecot.append("Sent", _filed_copy(first))  # only the first reached the provider
    env = {PASSWORD_ENV: dovecot.password}

    # An unknown provider (127.0.0.1): a copy proves delivery, its absence proves nothing.
    clock.advance(timedelta(minutes=1))
    verdicts = {v.message_id: v for v in resolve_by_proof(db, clock, settings, env=env)}
    assert verdicts[first.id].by_proof and verdicts[first.id].state == MessageState.SENT
    assert "is in 'Sent' of mailbox anna" in verdicts[first.id].evidence
    assert f"<{first.message_id}>" in verdicts[first.id].evidence
    for m in (second, third):
        assert not verdicts[m.id].by_proof
        assert "a person decides" in verdicts[m.id].evidence
    assert _states(db) == [MessageState.SENT, MessageState.AMBIGUOUS, MessageState.AMBIGUOUS]

    # A provider that files every submission: not yet after the grace period …
    with db.session() as s:
        box = s.get(Mailbox, world.mailbox_id)
        assert box is not None
        box.sent_folder_files_submissions = True
    clock.advance(timedelta(minutes=10))
    verdicts = {v.message_id: v for v in resolve_by_proof(db, clock, settings, env=env)}
    assert not verdicts[second.id].by_proof and "searched again" in verdicts[second.id].evidence
    # … then no copy is proof that nothing was submitted: planned again.
    clock.advance(timedelta(seconds=settings.sent_proof_grace_seconds))
    verdicts = {v.message_id: v for v in resolve_by_proof(db, clock, settings, env=env)}
    assert {verdicts[second.id].state, verdicts[third.id].state} == {MessageState.PLANNED}
    assert "it was never submitted" in verdicts[second.id].evidence

    with db.session() as s:
        # The sink takes mail without a login; the variable only held Dovecot's password,
        # and a mailbox naming a variable its process lacks never sends (docs/mailboxes.md).
        box = s.get(Mailbox, world.mailbox_id)
        assert box is not None
        box.password_env = None
    report = send_due(db, clock, settings)
    assert report.sent == 2
    arrived = sorted((m.message_id or "").strip("<>") for m in sink.messages)
    assert arrived == sorted([second.message_id, third.message_id])  # same ids, once each
    assert _states(db) == [MessageState.SENT] * 3

    if db.dialect != "sqlite":
        return  # the CLI part needs a workspace URL; one database is enough for it
    cli_env = {"KADENZ_DATABASE_URL": db.url, "KADENZ_HOME": str(tmp_path), "COLUMNS": "200"}
    shown = CliRunner().invoke(app, ["message", "resolve", str(first.id)], env=cli_env)
    assert shown.exit_code == 0, shown.output
    assert f"message {first.id} is sent" in shown.output
    assert "sent by proof: a copy with Message-ID" in shown.output

"""One login rule for SMTP and IMAP: the URL's user, else --username, else the address.

A mailbox added exactly as in docs/getting-started.md step 2 (no --username) logs in to a
real aiosmtpd with AUTH over STARTTLS as its address and sends. A missing password variable
is named, never turned into an unauthenticated attempt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli.main import app
from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.mail.smtp import SmtpSender
from engine.outbound.send import send_due, smtp_mailer_factory
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Mailbox, MailboxLink, OutboundMessage
from engine.workspace import mailboxes
from tests.integration.sending.factory import enroll, make_prospect, make_version
from tests.support.smtp_server import SmtpSink, tls_available

VARIABLE = "ANNA_SMTP_PASSWORD"


def _add_as_in_getting_started(db: Database, home: Path, smtp_url: str) -> None:
    """docs/getting-started.md step 2, with the sink's address in place of the real host."""
    env = {"KADENZ_DATABASE_URL": db.url, "KADENZ_HOME": str(home), VARIABLE: "s3cret"}
    command = (
        "mailbox add anna --address anna@acme.example "
        f"--smtp {smtp_url} --imap imaps://mail.acme.example:993 "
        f"--password-env {VARIABLE} --display-name Anna "
        "--daily-cap 40 --timezone Europe/Berlin"
    )
    result = CliRunner().invoke(app, command.split(), env=env)
    assert result.exit_code == 0, result.output
    assert "mailbox anna added: anna@acme.example" in result.output


def _enroll_one(db: Database, clock: VirtualClock) -> None:
    with db.session() as s:
        mailbox = s.scalars(select(Mailbox)).one()
        version = make_version(s, clock.now())
        enroll(s, clock.now(), make_prospect(s, clock.now(), "erik@beta.example"), version, mailbox)


def test_getting_started_mailbox_logs_in_as_its_address(
    sqlite_db: Database,
    clock: VirtualClock,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not tls_available():
        pytest.skip("openssl is needed for the sink's STARTTLS certificate")
    db = sqlite_db  # the CLI part needs a workspace URL; the login rule is not SQL
    monkeypatch.setenv(VARIABLE, "s3cret")
    with SmtpSink(auth=("anna@acme.example", "s3cret"), tls="starttls") as sink:
        _add_as_in_getting_started(db, tmp_path, f"smtp+starttls://127.0.0.1:{sink.port}")
        _enroll_one(db, clock)
        tick(db, clock, settings)

        def trusting(mailbox: Mailbox, password: str | None) -> SmtpSender:
            # the real factory's endpoint and password; only the test CA is added
            real = smtp_mailer_factory(mailbox, password)
            return SmtpSender(
                real.endpoint, password=password, tls_context=sink.client_tls_context()
            )

        report = send_due(db, clock, settings, trusting)
        assert report.sent == 1, report
        assert len(sink.messages) == 1
    with db.session() as s:
        assert s.scalars(select(OutboundMessage.state)).one() == MessageState.SENT
        link = s.scalars(select(MailboxLink)).one()
        assert (link.direction, link.failing_since, link.last_ok_at) == (
            "smtp",
            None,
            clock.now(),
        )


def test_missing_smtp_password_variable_pauses_with_its_name(
    db: Database, clock: VirtualClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    with SmtpSink(auth=("anna@acme.example", "s3cret")) as sink:
        with db.session() as s:
            mailboxes.add(
                s,
                "anna",
                mailboxes.MailboxSettings(
                    address="anna@acme.example", smtp_url=sink.url, password_env=VARIABLE
                ),
                at=clock.now(),
            )
        _enroll_one(db, clock)
        tick(db, clock, settings)
        send_due(db, clock, settings)
        assert sink.connections == 0  # no attempt without the password
    with db.session() as s:
        mailbox = s.scalars(select(Mailbox)).one()
        message = s.scalars(select(OutboundMessage)).one()
        link = s.scalars(select(MailboxLink)).one()
    assert message.state == MessageState.PLANNED and message.attempts == 0
    assert mailbox.paused and VARIABLE in (mailbox.paused_reason or "")
    assert (link.direction, link.error_kind, link.failures_total) == ("smtp", "password_missing", 1)
    assert link.fix is not None and f"export {VARIABLE}" in link.fix


def test_login_rule_is_one_function() -> None:
    from engine.mail.urls import parse_imap_url, parse_smtp_url

    smtp = parse_smtp_url("smtp+starttls://mail.acme.example:587")
    imap = parse_imap_url("imaps://ops@mail.acme.example")
    assert mailboxes.login_endpoint(smtp, username=None, address="anna@acme.example").username == (
        "anna@acme.example"
    )
    assert mailboxes.login_endpoint(smtp, username="anna", address="x@y.example").username == "anna"
    assert mailboxes.login_endpoint(imap, username="anna", address="x@y.example").username == "ops"


def test_smtp_refused_is_recorded_then_cleared_by_a_good_send(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    with SmtpSink() as sink:
        with db.session() as s:
            mailboxes.add(
                s,
                "anna",
                mailboxes.MailboxSettings(address="anna@acme.example", smtp_url=sink.url),
                at=clock.now(),
            )
        _enroll_one(db, clock)
        tick(db, clock, settings)
    # The sink is gone: nothing listens on its port any more.
    send_due(db, clock, settings)
    with db.session() as s:
        link = s.scalars(select(MailboxLink)).one()
        mailbox = s.scalars(select(Mailbox)).one()
        message = s.scalars(select(OutboundMessage)).one()
        assert (link.direction, link.error_kind) == ("smtp", "refused")
        assert link.fix is not None and "check the port" in link.fix
        assert not mailbox.paused  # a refused connection is retried, the mailbox not paused
        not_before = message.not_before
    with SmtpSink() as sink:
        with db.session() as s:  # the server is back (here: on another port)
            mailboxes.update(s, "anna", mailboxes.MailboxSettings(smtp_url=sink.url))
        clock.set(not_before)
        assert send_due(db, clock, settings).sent == 1
    with db.session() as s:
        link = s.scalars(select(MailboxLink)).one()
    assert link.failing_since is None and link.failures_total == 1

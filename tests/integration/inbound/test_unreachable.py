"""A mailbox whose inbox cannot be read is loud (DESIGN invariant 12), never "polled" silently.

The IMAP password variable is missing from the environment: the error is logged with the
fix, counted in the metrics, reported by /api/v1/health; once the inbox has been dark for
KADENZ_INBOUND_DARK_MINUTES the mailbox's sending pauses (visible in `explain` and
`outbox`), and the next good poll lifts the pause. Time moves with an injected clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.inbound import poll
from engine.mail import imap
from engine.mail.failures import FailureKind
from engine.mail.urls import parse_imap_url
from engine.outbound.explain import explain_prospect
from engine.outbound.outbox import outbox
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.reporting import health
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Event, Mailbox, MailboxLink
from tests.integration.sending.factory import build_world
from tests.support.smtp_server import SmtpSink
from tests.support.web import TestClient, seeded_app

VARIABLE = "KADENZ_TEST_ANNA_IMAP_PASSWORD"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(auth=("anna@acme.example", "secret")) as server:  # login: the address
        yield server


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, secret_key="test-secret", inbound_dark_minutes=30)


def _mailbox(db: Database) -> Mailbox:
    with db.session() as s:
        return s.scalars(select(Mailbox)).one()


def test_missing_imap_password_is_logged_counted_shown_and_pauses_sending_after_the_dark_time(
    db: Database,
    clock: VirtualClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    sink: SmtpSink,
) -> None:
    settings = _settings(tmp_path)
    monkeypatch.delenv(VARIABLE, raising=False)
    dark_after = poll.dark_limit(settings)
    assert dark_after == timedelta(minutes=30)
    with db.session() as s:
        build_world(
            s, clock.now(), ["erik@beta.example"],
            smtp_url=sink.url, imap_url="imaps://mail.acme.example:993", password_env=VARIABLE,
        )  # fmt: skip
        mailbox_id = s.scalars(select(Mailbox.id)).one()
    tick(db, clock, settings)  # the first email is planned, due now
    env: dict[str, str] = {}  # the worker's environment lacks the variable

    with caplog.at_level(logging.ERROR):
        report = poll.poll_mailbox(db, clock, mailbox_id, env=env, dark_after=dark_after)
    assert report.error == f"environment variable {VARIABLE} is not set (it holds the password)"
    (record,) = [r for r in caplog.records if r.getMessage().startswith("mailbox.unreachable")]
    line = record.getMessage()
    assert record.levelno == logging.ERROR
    assert "mailbox=anna direction=imap kind=password_missing" in line
    assert f"export {VARIABLE}" in line  # the fix names the variable to set

    figures = health.collect(db, clock)
    (reach,) = figures.degraded
    assert (reach.name, reach.direction, reach.kind) == ("anna", "imap", "password_missing")
    assert reach.failures_total == 1 and not reach.sending_paused
    text = health.to_prometheus(figures)
    assert 'kadenz_mailbox_reachable{mailbox="anna",direction="imap"} 0' in text
    assert 'kadenz_mailbox_connect_failures_total{mailbox="anna",direction="imap"} 1' in text
    assert "kadenz_mailboxes_degraded 1" in text

    # Not dark long enough yet: sending goes on (one email goes out).
    assert not _mailbox(db).paused
    clock.advance(timedelta(minutes=29))
    poll.poll_mailbox(db, clock, mailbox_id, env=env, dark_after=dark_after)
    assert not _mailbox(db).paused

    # 30 minutes after the first failure: the mailbox's sending pauses, with the reason.
    clock.advance(timedelta(minutes=1))
    poll.poll_mailbox(db, clock, mailbox_id, env=env, dark_after=dark_after)
    box = _mailbox(db)
    assert box.paused
    reason = box.paused_reason or ""
    assert reason.startswith("inbound dark for 30 min (IMAP password_missing")
    assert f"export {VARIABLE}" in reason and "lifts itself" in reason
    assert send_due(db, clock, settings).claimed == 0
    assert sink.connections == 0
    with db.session() as s:
        (held,) = outbox(s)
        (enrollment,) = explain_prospect(s, "erik@beta.example", clock.now()).enrollments
    assert held.why == f"mailbox paused: {reason}"
    assert f"mailbox anna is paused: {reason}" in enrollment.holds
    figures = health.collect(db, clock)
    (reach,) = figures.degraded
    assert reach.sending_paused and reach.failures_total == 3
    assert reach.failing_seconds == 30 * 60
    text = health.to_prometheus(figures)
    assert 'kadenz_mailbox_unreachable_seconds{mailbox="anna",direction="imap"} 1800' in text

    # The variable is set again: the next good poll lifts the pause, and the email goes out.
    clock.advance(timedelta(minutes=5))
    env[VARIABLE] = "secret"
    monkeypatch.setenv(VARIABLE, "secret")  # the sender reads the same variable
    report = poll.poll_mailbox(
        db, clock, mailbox_id, env=env, dark_after=dark_after, fetch=lambda *a: ([], {})
    )
    assert report.error is None
    assert not _mailbox(db).paused
    assert health.collect(db, clock).degraded == []
    with db.session() as s:
        types = [e.type for e in s.scalars(select(Event).order_by(Event.id))]
        link = s.scalars(select(MailboxLink)).one()
    assert types[-2:] == [EventType.MAILBOX_PAUSED, EventType.MAILBOX_RESUMED]
    assert link.last_ok_at == clock.now() and link.failures_total == 3
    assert send_due(db, clock, settings).sent == 1
    assert len(sink.messages) == 1


def test_a_person_who_resumes_during_the_outage_is_not_overruled(
    db: Database, clock: VirtualClock, tmp_path: Path
) -> None:
    from engine.workspace import mailboxes

    with db.session() as s:
        build_world(
            s, clock.now(), [], imap_url="imaps://mail.acme.example:993", password_env=VARIABLE
        )
        mailbox_id = s.scalars(select(Mailbox.id)).one()
    dark = timedelta(minutes=30)
    poll.poll_mailbox(db, clock, mailbox_id, env={}, dark_after=dark)
    clock.advance(dark)
    poll.poll_mailbox(db, clock, mailbox_id, env={}, dark_after=dark)
    assert _mailbox(db).paused
    with db.session() as s:
        mailboxes.resume(s, "anna", at=clock.now(), reason="sending anyway")
    clock.advance(timedelta(minutes=5))
    poll.poll_mailbox(db, clock, mailbox_id, env={}, dark_after=dark)
    assert not _mailbox(db).paused  # the person's decision holds for this outage


def test_failures_from_the_imap_server_carry_their_kind_and_fix(
    db: Database, clock: VirtualClock
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), [], imap_url="imaps://mail.acme.example:993")
        mailbox_id = s.scalars(select(Mailbox.id)).one()

    def refused(*_: object) -> tuple[list[object], dict[str, object]]:
        raise imap.ImapError("imaps://mail.acme.example:993: login refused", FailureKind.AUTH)

    poll.poll_mailbox(db, clock, mailbox_id, env={}, fetch=refused)
    (reach,) = health.collect(db, clock).degraded
    assert reach.kind == "auth"
    assert reach.fix is not None and "kadenz mailbox update anna --username" in reach.fix


def test_real_connection_failures_are_classified() -> None:
    refused = parse_imap_url("imap://anna@127.0.0.1:1")
    with pytest.raises(imap.ImapError) as caught:
        imap.fetch_new(refused, "pw", ["INBOX"], {}, timeout=5)
    assert caught.value.kind == FailureKind.REFUSED
    unknown = parse_imap_url("imap://anna@no-such-host.invalid:143")
    with pytest.raises(imap.ImapError) as caught:
        imap.fetch_new(unknown, "pw", ["INBOX"], {}, timeout=5)
    assert caught.value.kind == FailureKind.DNS


def test_health_endpoint_reports_degraded_with_mailbox_and_reason(
    db: Database, tmp_path: Path
) -> None:
    web = seeded_app(db, tmp_path)
    with TestClient(web.app) as client:
        assert client.get("/api/v1/health").json() == {"status": "ok", "mailboxes": []}
        with db.session() as s:
            anna = s.scalars(select(Mailbox).where(Mailbox.name == "anna")).one()
            anna.imap_url, anna.password_env = "imaps://mail.acme.example:993", VARIABLE
            mailbox_id = anna.id
        poll.poll_mailbox(db, web.clock, mailbox_id, env={})
        body = client.get("/api/v1/health").json()
    assert body["status"] == "degraded"
    (item,) = body["mailboxes"]
    assert item["mailbox"] == "anna" and item["direction"] == "imap"
    assert item["kind"] == "password_missing" and VARIABLE in item["reason"]
    assert f"export {VARIABLE}" in item["fix"]
    assert item["sending_paused"] is False


def test_embedded_runner_polls_pause_a_dark_mailbox_too(
    db: Database, clock: VirtualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.embedded.runner import Runner

    monkeypatch.delenv(VARIABLE, raising=False)
    with db.session() as s:
        build_world(
            s, clock.now(), [], imap_url="imaps://mail.acme.example:993", password_env=VARIABLE
        )
    settings = Settings(
        home=tmp_path, database_url=db.url, secret_key="k", inbound_dark_minutes=10, idle=False
    )
    runner = Runner(db, clock, settings)
    runner.round(poll=True)
    assert not _mailbox(db).paused
    clock.advance(timedelta(minutes=10))
    runner.round(poll=True)
    assert (_mailbox(db).paused_reason or "").startswith("inbound dark for 10 min")

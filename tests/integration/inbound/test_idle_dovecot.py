"""IMAP IDLE against a real Dovecot: the doorbell rings on new mail, the embedded runner
polls on the ring (no poll interval involved), and a watcher that cannot log in is
recorded like a failed poll (logged with the fix, counted, in health)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.embedded.runner import Runner
from engine.inbound import idle
from engine.mail.imap_idle import Doorbell
from engine.mail.urls import parse_imap_url
from engine.reporting import health
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, ImapCheckpoint, Mailbox
from tests.conftest import missing
from tests.support.imap_server import Dovecot, dovecot_available
from tests.support.inbound_world import enroll_and_send, german_reply, make_world

PASSWORD_ENV = "KADENZ_TEST_IMAP_PASSWORD"
LIMIT = 30.0  # an upper bound for "it happened", never a measured time (bench/ measures)


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    if not dovecot_available():
        missing("Dovecot (apt-get install dovecot-imapd)")
    with Dovecot(tmp_path_factory.mktemp("dovecot")) as server:
        yield server


def _folder(dovecot: Dovecot, name: str) -> str:
    client = dovecot.client()
    try:
        client.create(name)
    finally:
        client.logout()
    return name


def test_doorbell_rings_on_new_mail_and_stays_quiet_otherwise(dovecot: Dovecot) -> None:
    folder = _folder(dovecot, "Bell")
    bell = Doorbell(parse_imap_url(dovecot.url), dovecot.password, folder)
    assert bell.open()  # Dovecot advertises IDLE
    try:
        assert bell.wait(0.3) is False  # nothing new: the wait runs out, the session lives on
        dovecot.append(folder, b"From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n")
        assert bell.wait(LIMIT) is True
        stop = threading.Event()
        stop.set()
        assert bell.wait(LIMIT, stop) is False  # a stop ends the wait (DONE, tagged OK)
    finally:
        bell.close()


def test_runner_reads_a_reply_on_the_idle_ring(
    db: Database,
    clock: VirtualClock,
    dovecot: Dovecot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot.password)
    folder = _folder(dovecot, f"Idle{request.node.callspec.id}")
    world = make_world(db, clock.now())
    with db.session() as s:
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        mailbox.imap_url, mailbox.password_env, mailbox.imap_folders = (
            dovecot.url,
            PASSWORD_ENV,
            [folder],
        )
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    settings = Settings(
        home=tmp_path, database_url=db.url, secret_key="k", tick_seconds=0.2, poll_seconds=3600
    )
    runner = Runner(db, clock, settings)
    rang = threading.Event()
    original = runner.ring

    def ring(mailbox_id: int) -> None:
        rang.set()
        original(mailbox_id)

    runner.ring = ring  # type: ignore[method-assign]
    thread = threading.Thread(target=runner.run_forever, daemon=True)
    thread.start()
    try:
        assert rang.wait(LIMIT), "the IDLE watcher never connected"
        checkpointed = threading.Event()
        while not checkpointed.wait(0.05):  # the first (interval) poll has run
            with db.session() as s:
                if s.scalars(select(ImapCheckpoint)).first() is not None:
                    checkpointed.set()
            assert thread.is_alive()
        rang.clear()
        dovecot.append(folder, german_reply(erik, at=clock.now()))
        assert rang.wait(LIMIT), "no ring after the reply landed"
        stopped = threading.Event()
        for _ in range(int(LIMIT / 0.05)):
            with db.session() as s:
                row = s.get(Enrollment, erik.enrollment_id)
                if row is not None and row.state == "stopped":
                    stopped.set()
                    break
            stopped.wait(0.05)
        # The next interval poll is an hour away: only the ring can have read the reply.
        assert stopped.is_set()
    finally:
        runner.stop.set()
        thread.join(LIMIT)
    assert not thread.is_alive()


def test_watcher_that_cannot_log_in_is_recorded_and_backs_off(
    db: Database, clock: VirtualClock, dovecot: Dovecot, tmp_path: Path
) -> None:
    world = make_world(db, clock.now())
    with db.session() as s:
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        mailbox.imap_url, mailbox.password_env = dovecot.url, PASSWORD_ENV
    settings = Settings(home=tmp_path, database_url=db.url, secret_key="k")
    stop = threading.Event()
    waits: list[float] = []

    class CountingStop(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0.0)
            if len(waits) == 3:
                stop.set()
            return stop.is_set()

        def is_set(self) -> bool:
            return stop.is_set()

    why = idle.watch(
        db, clock, settings, world.mailbox_id, lambda _: None, CountingStop(),
        env={PASSWORD_ENV: "wrong"},
    )  # fmt: skip
    assert why == "stopped"
    assert waits == [1.0, 2.0, 4.0]  # exponential backoff between attempts
    (reach,) = health.collect(db, clock).degraded
    assert (reach.name, reach.direction, reach.kind, reach.failures_total) == (
        "anna",
        "imap",
        "auth",
        3,
    )
    assert "wrong" not in (reach.error or "")

"""Every task body runs against a real PostgreSQL and Redis (called in-process, no broker):
the thin wrappers call the engine services with the signatures those services have."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select
from typer.testing import CliRunner

from engine.cli.main import app
from engine.outbound import dispatch
from engine.store.db import Database
from engine.store.models import Mailbox, OutboundMessage, SequenceVersion
from tests.integration.sending.factory import (
    BASIC_SPEC,
    build_world,
    enroll,
    make_mailbox,
    make_prospect,
)
from tests.support.smtp_server import SmtpSink
from workers import runtime, tasks

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def services_env(
    postgres_db: Database,
    tmp_path: Path,
    redis_url: str,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[runtime.Services]:
    monkeypatch.setenv("KADENZ_HOME", str(tmp_path))
    monkeypatch.setenv("KADENZ_DATABASE_URL", postgres_db.url)
    monkeypatch.setenv("KADENZ_REDIS_URL", redis_url)
    monkeypatch.setenv("KADENZ_REDIS_PREFIX", redis_prefix)
    monkeypatch.setenv("KADENZ_SECRET_KEY", "test")
    runtime.reset()
    services = runtime.services()
    yield services
    runtime.shutdown()  # the kept SMTP connections and the process's event loop
    services.db.dispose()
    services.redis.close()
    runtime.reset()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The task bodies run in-process: what they enqueue is recorded here instead of going
    to whatever broker the Celery app was configured with at import."""
    sent: list[str] = []
    for task in (tasks.tick, tasks.dispatch_sends, tasks.send_mailboxes):
        monkeypatch.setattr(task, "delay", lambda *a, _n=task.name, **k: sent.append(_n))
    return sent


def test_periodic_task_bodies_run_on_an_empty_workspace(
    services_env: runtime.Services, nudges: list[str]
) -> None:
    tasks.tick()
    assert tasks.dispatch_sends() == 0
    assert tasks.resolve_leases() == 0
    assert tasks.resume_due() == 0
    assert tasks.dispatch_polls() == 0
    tasks.refresh_rollups()
    tasks.deliver_webhooks()
    assert nudges == []  # nothing planned, nothing sent: nothing to hurry


def test_send_mailbox_releases_its_lock_and_sends_nothing_when_nothing_is_due(
    services_env: runtime.Services,
) -> None:
    s = services_env
    with s.db.session() as session:
        world = build_world(session, s.clock.now(), ["a@beta.example"])
    token = s.locks.acquire(world.mailbox_id)
    assert token is not None
    assert s.locks.acquire(world.mailbox_id) is None  # held: dispatch would not enqueue
    tasks.send_mailbox(world.mailbox_id, token)
    assert s.locks.acquire(world.mailbox_id) is not None  # released when the task ended


def test_a_tick_nudged_while_another_ticks_leaves_the_workers_to_sending(
    services_env: runtime.Services, nudges: list[str]
) -> None:
    s = services_env
    with s.db.session() as session:
        build_world(session, s.clock.now(), ["a@beta.example", "b@beta.example"])
    busy = s.tick_slots.acquire(0)  # another worker's tick holds the only slot
    assert busy is not None
    tasks.tick()
    assert _planned(s.db) == 0  # returned at once: the running tick continues itself
    assert s.tick_slots.release(0, busy)
    tasks.tick()
    assert _planned(s.db) == 2
    assert s.tick_slots.acquire(0) is not None  # the slot was given back
    # The planned emails go out now, not at beat's next dispatch: one nudge per tick task.
    assert nudges == ["kadenz.dispatch_sends"]


def _planned(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(OutboundMessage)) or 0


def test_poll_task_with_a_missing_password_is_loud_and_pauses_sending_after_the_dark_time(
    services_env: runtime.Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The issue's worker: its environment lacks the IMAP password variable. The poll task
    logs the error with the fix, the metrics count it, and 30 minutes (the default
    KADENZ_INBOUND_DARK_MINUTES) later the mailbox's sending is paused; beat keeps polling
    the paused mailbox, so the pause can lift."""
    offset = tmp_path / "clock-offset"
    offset.write_text("0")
    monkeypatch.setenv(runtime.CLOCK_OFFSET_FILE_ENV, str(offset))
    monkeypatch.delenv("KADENZ_TEST_WORKER_IMAP_PASSWORD", raising=False)
    runtime.reset()
    s = runtime.services()  # again: its clock reads the offset file
    try:
        _dark_mailbox_scenario(s, caplog, offset)
    finally:
        runtime.shutdown()
        s.db.dispose()
        s.redis.close()


def _dark_mailbox_scenario(
    s: runtime.Services, caplog: pytest.LogCaptureFixture, offset: Path
) -> None:
    with s.db.session() as session:
        world = build_world(
            session, s.clock.now(), ["a@beta.example"],
            imap_url="imaps://mail.acme.example", password_env="KADENZ_TEST_WORKER_IMAP_PASSWORD",
        )  # fmt: skip
    with caplog.at_level(logging.ERROR):
        tasks.poll_mailbox(world.mailbox_id)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "mailbox.unreachable mailbox=anna direction=imap kind=password_missing" in logged
    assert "export KADENZ_TEST_WORKER_IMAP_PASSWORD" in logged
    offset.write_text(str(31 * 60))
    tasks.poll_mailbox(world.mailbox_id)
    with s.db.session() as session:
        mailbox = session.get(Mailbox, world.mailbox_id)
        assert mailbox is not None and mailbox.paused
        assert (mailbox.paused_reason or "").startswith("inbound dark for 31 min")
    assert dispatch.pollable_mailboxes(s.db) == [world.mailbox_id]  # paused: still polled
    table = CliRunner().invoke(app, ["metrics"])
    assert table.exit_code == 0, table.output
    assert "unreachable: anna imap for " in table.output  # (the CLI's clock is the wall's)
    assert "(password_missing: environment variable KADENZ_TEST_WORKER_IMAP" in table.output
    assert "sending paused; 2 failures in all" in table.output
    assert "fix: export KADENZ_TEST_WORKER_IMAP_PASSWORD" in table.output


def test_kadenz_idle_rings_into_the_poll_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kadenz idle` sends the ordinary poll task by id, routed to `kadenz.poll` (the
    send itself is replaced here: this process's broker is not the test's Redis)."""
    from workers import idle
    from workers.app import app as celery_app

    sent: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(idle.app, "send_task", lambda name, args: sent.append((name, list(args))))
    idle.ring(7)
    assert sent == [("kadenz.poll_mailbox", [7])]
    assert celery_app.conf.task_routes["kadenz.poll_mailbox"] == {"queue": "kadenz.poll"}
    help_text = CliRunner().invoke(app, ["idle", "--help"]).output
    assert "IMAP IDLE" in help_text and "enqueue a poll" in help_text


ALWAYS_OPEN = {  # the task uses the real clock: a window open whenever this runs
    **BASIC_SPEC,
    "schedule": {"timezone": "UTC", "window": "Mon-Sun 00:00-24:00", "holidays": None},
}


def test_one_send_task_streams_several_mailboxes_and_releases_every_lock(
    services_env: runtime.Services, nudges: list[str]
) -> None:
    """What dispatch hands a send task when there are more mailboxes than it has tasks:
    every mailbox's mail arrives, each from its own mailbox, and each lock is given back."""
    s = services_env
    with SmtpSink() as sink, s.db.session() as session:
        now = s.clock.now()
        world = build_world(
            session, now, ["a1@beta.example", "a2@beta.example"], spec=ALWAYS_OPEN,
            smtp_url=sink.url,
        )  # fmt: skip
        version = session.get(SequenceVersion, world.version_id)
        assert version is not None
        ben = make_mailbox(session, now, name="ben", smtp_url=sink.url)
        for address in ("b1@gamma.example", "b2@gamma.example", "b3@gamma.example"):
            enroll(session, now, make_prospect(session, now, address), version, ben)
        session.commit()
        ids = [world.mailbox_id, ben.id]
        held = [[mailbox_id, s.locks.acquire(mailbox_id)] for mailbox_id in ids]
        assert all(token for _, token in held)
        tasks.tick()
        assert nudges == ["kadenz.dispatch_sends"]
        tasks.send_mailboxes(held)
        senders = sorted((m.mail_from, m.rcpt_tos[0]) for m in sink.messages)
    # The step after each sent email (here: the sequence's end) runs now, not at beat's tick.
    assert nudges == ["kadenz.dispatch_sends", "kadenz.tick"]
    assert senders == [
        ("anna@acme.example", "a1@beta.example"),
        ("anna@acme.example", "a2@beta.example"),
        ("ben@acme.example", "b1@gamma.example"),
        ("ben@acme.example", "b2@gamma.example"),
        ("ben@acme.example", "b3@gamma.example"),
    ]
    assert all(s.locks.acquire(mailbox_id) is not None for mailbox_id in ids)


def test_dispatch_spreads_the_mailboxes_it_locked_over_at_most_send_tasks() -> None:
    held = [(m, f"t{m}") for m in (1, 2, 3, 4, 5)]
    assert dispatch.spread(held, 2) == [
        [(1, "t1"), (3, "t3"), (5, "t5")],
        [(2, "t2"), (4, "t4")],
    ]
    assert dispatch.spread(held[:1], 4) == [[(1, "t1")]]  # never an empty task
    assert dispatch.spread([], 2) == []
    assert dispatch.spread(held, 1) == [held]

"""A process killed during a send: after restart the message is ambiguous, never sent twice."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.embedded.runner import Runner
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.integration.sending import crash_child
from tests.integration.sending.factory import build_world
from tests.support.smtp_server import SmtpSink

ROOT = Path(__file__).resolve().parents[3]


def _die_while_sending(db: Database, tmp_path: Path, when: str) -> None:
    """Run crash_child, which sends from `db` and kills itself at `when` (its modes)."""
    child = subprocess.run(
        [sys.executable, "-m", "tests.integration.sending.crash_child", db.url, str(tmp_path),
         when],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert child.returncode == 9, child.stderr


@pytest.mark.parametrize(("when", "copies"), [("before-data", 0), ("after-data", 1)])
def test_crash_mid_send_never_makes_a_second_copy(
    db: Database, settings: Settings, sink: SmtpSink, tmp_path: Path, when: str, copies: int
) -> None:
    with db.session() as s:
        build_world(s, crash_child.START, ["erik@beta.example"], smtp_url=sink.url)
    _die_while_sending(db, tmp_path, when)
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
    assert message.state == MessageState.SENDING  # committed before the SMTP transaction
    assert len(sink.messages) == copies

    # restart: the lease has not run out yet, so nothing is decided and nothing is sent
    assert message.lease_until is not None
    clock = VirtualClock(message.lease_until - timedelta(seconds=1))
    runner = Runner(db, clock, settings)
    assert runner.round().ambiguous == []
    clock.advance(timedelta(seconds=2))
    report = runner.round()
    assert report.ambiguous == [message.id]
    for _ in range(3):  # and however long it runs after that, no second copy
        clock.advance(timedelta(hours=6))
        runner.round()
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
    assert message.state == MessageState.AMBIGUOUS
    assert "lease expired" in (message.last_error or "")
    assert len(sink.messages) == copies
    assert sink.data_received == copies


def test_crash_before_the_start_is_committed_plans_the_message_again_and_sends_it_once(
    db: Database, settings: Settings, sink: SmtpSink, tmp_path: Path
) -> None:
    """The start is committed while MAIL FROM and RCPT TO go out, and DATA waits for it. A
    process that dies before that commit sent no content (the server cancels a transaction
    without its end of data when the connection goes, RFC 5321 §3.8): the message is not
    ambiguous, it goes back to planned when its lease runs out and is sent once."""
    with db.session() as s:
        build_world(s, crash_child.START, ["erik@beta.example"], smtp_url=sink.url)
    _die_while_sending(db, tmp_path, "before-start")
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
    assert message.state == MessageState.SENDING and message.smtp_started_at is None
    assert sink.data_received == 0

    assert message.lease_until is not None
    clock = VirtualClock(message.lease_until + timedelta(seconds=1))
    report = Runner(db, clock, settings).round()
    assert report.ambiguous == [] and report.replanned == [message.id]
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
    assert message.state == MessageState.SENT
    assert len(sink.messages) == 1 and sink.data_received == 1


def test_crash_mid_batch_leaves_only_the_message_in_flight_ambiguous(
    db: Database, settings: Settings, sink: SmtpSink, tmp_path: Path
) -> None:
    """Three claimed on one connection; the process dies during the second send. The first
    one's acceptance was recorded (with the second's start, one commit) and is applied; the
    second is the only one ambiguous; the third was never started: planned again, then sent
    once."""
    emails = ["erik@beta.example", "jana@gamma.example", "kai@delta.example"]
    with db.session() as s:
        build_world(s, crash_child.START, emails, smtp_url=sink.url)
    _die_while_sending(db, tmp_path, "second-send")
    with db.session() as s:
        messages = s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    first, second, third = messages
    # The first one's acceptance was committed (with the second's start) before the second
    # one's DATA; its consequences were still to be applied in a batch when the process died.
    assert {m.state for m in messages} == {MessageState.SENDING}
    assert (first.smtp_outcome, first.smtp_code) == ("accepted", 250)
    assert second.smtp_started_at is not None and second.smtp_outcome is None
    assert third.smtp_started_at is None
    assert len(sink.messages) == 1

    assert third.lease_until is not None
    clock = VirtualClock(max(m.lease_until or third.lease_until for m in messages))
    clock.advance(timedelta(seconds=1))
    runner = Runner(db, clock, settings)
    assert runner.round().ambiguous == [second.id]
    with db.session() as s:
        states = {m.id: m.state for m in s.scalars(select(OutboundMessage))}
    assert states == {
        first.id: MessageState.SENT,
        second.id: MessageState.AMBIGUOUS,
        third.id: MessageState.SENT,  # re-planned, re-claimed and sent in the same round
    }
    ids = [(m.message_id or "").strip("<>") for m in sink.messages]
    assert ids == [first.message_id, third.message_id]  # each once, the ambiguous one never

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


@pytest.mark.parametrize(("when", "copies"), [("before-data", 0), ("after-data", 1)])
def test_crash_mid_send_never_makes_a_second_copy(
    db: Database, settings: Settings, sink: SmtpSink, tmp_path: Path, when: str, copies: int
) -> None:
    with db.session() as s:
        build_world(s, crash_child.START, ["erik@beta.example"], smtp_url=sink.url)
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.sending.crash_child",
            db.url,
            str(tmp_path),
            when,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 9, child.stderr
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

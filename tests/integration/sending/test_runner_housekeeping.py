"""`kadenz run` does the slower chores on the poll interval: rollups are folded, and one
failing chore never stops the others or the sending."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.clock import VirtualClock
from engine.embedded import runner
from engine.embedded.runner import Runner
from engine.reporting import rollups
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Event
from tests.integration.sending.factory import advance_to_due, build_world
from tests.support.smtp_server import SmtpSink


def test_a_polling_round_folds_new_events_into_the_rollups(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    with db.session() as s:
        build_world(s, clock.now(), ["p0@beta0.example"], smtp_url=sink.url)
    engine = Runner(db, clock, settings)
    engine.round()
    advance_to_due(db, clock)
    engine.round(poll=True)
    with db.session() as s:
        newest = s.scalar(select(func.max(Event.id)))
        assert newest is not None and rollups.last_event_id(s) == newest
    assert len(sink.messages) == 1


def test_a_failing_chore_does_not_stop_the_others(
    db: Database, clock: VirtualClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("IMAP server unreachable")

    monkeypatch.setattr(runner.poll, "poll_all", broken)
    with db.session() as s:
        build_world(s, clock.now(), ["p0@beta0.example"])
    Runner(db, clock, settings).round(poll=True)
    with db.session() as s:
        assert rollups.last_event_id(s) == s.scalar(select(func.max(Event.id)))

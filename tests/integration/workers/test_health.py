"""Operating figures from the database and the broker, as a table, JSON and Prometheus text."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from engine.cli.main import app
from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.reporting import health
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.integration.sending.factory import build_world
from tests.support.smtp_server import SmtpSink

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_figures_count_backlog_sends_and_what_needs_a_person(
    postgres_db: Database, clock: VirtualClock, tmp_path: Path, redis_url: str
) -> None:
    settings = Settings(home=tmp_path, secret_key="s", database_url=postgres_db.url)
    with SmtpSink() as sink:
        with postgres_db.session() as s:
            emails = [f"p{i}@beta.example" for i in range(5)]
            build_world(s, clock.now(), emails, smtp_url=sink.url)
        tick(postgres_db, clock, settings)
        before = health.collect(postgres_db, clock)
        assert before.due_enrollments == 0  # every step ran: the emails are planned
        # The planner spreads the emails over the day's window (09:00-17:00 Berlin): one
        # second before it closes, every one of them is due and the window still open.
        clock.advance(timedelta(hours=7, minutes=59, seconds=59))
        due = health.collect(postgres_db, clock)
        assert due.due_messages == 5 and due.oldest_due_seconds > 0
        assert due.mailboxes[0].planned_due == 5
        send_due(postgres_db, clock, settings)
        assert len(sink.messages) == 5
    with postgres_db.session() as s:
        first = s.query(OutboundMessage).order_by(OutboundMessage.id).first()
        assert first is not None
        first.state = MessageState.AMBIGUOUS
    client = redis.Redis.from_url(redis_url)
    try:
        figures = health.collect(postgres_db, clock, client)
    finally:
        client.close()
    assert figures.ambiguous == 1 and figures.sent_last_hour == 4 and figures.due_messages == 0
    assert [(b.name, b.last_hour, b.last_24h) for b in figures.mailboxes] == [("anna", 4, 4)]
    assert set(figures.queues) == {"kadenz", "kadenz.send", "kadenz.poll"}
    text = health.to_prometheus(figures)
    assert 'kadenz_sent_last_hour{mailbox="anna"} 4' in text
    assert 'kadenz_messages{state="ambiguous"} 1' in text
    assert "# TYPE kadenz_due_messages gauge" in text


def test_metrics_command_prints_table_json_and_prometheus(
    postgres_db: Database, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KADENZ_HOME", str(tmp_path))
    monkeypatch.setenv("KADENZ_DATABASE_URL", postgres_db.url)
    monkeypatch.setenv("KADENZ_REDIS_URL", redis_url)
    runner = CliRunner()
    table = runner.invoke(app, ["metrics"])
    assert table.exit_code == 0, table.output
    assert "due now:" in table.output and "need review:" in table.output
    as_json = runner.invoke(app, ["metrics", "--json"])
    assert json.loads(as_json.output)["due_messages"] == 0
    prom = runner.invoke(app, ["metrics", "--prometheus"])
    assert 'kadenz_queue_depth{queue="kadenz.send"}' in prom.output

"""engine.store.statistics: after a tick that planned many emails, PostgreSQL's planner
knows of them at once (autovacuum would only analyze within its next minute)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.clock import VirtualClock
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store import statistics
from engine.store.db import Database
from tests.integration.sending.factory import build_world


def _known_rows(db: Database, table: str) -> float:
    with db.session() as s:
        return float(
            s.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table})
        )


@pytest.mark.postgres
def test_a_tick_that_planned_many_emails_refreshes_the_planner_statistics(
    postgres_db: Database, clock: VirtualClock, settings: Settings
) -> None:
    emails = [f"p{n}@beta.example" for n in range(80)]
    with postgres_db.session() as s:
        build_world(s, clock.now(), emails)
        s.commit()
    assert _known_rows(postgres_db, "outbound_messages") <= 0  # emptied: -1 or 0 (unknown)
    report = tick(postgres_db, clock, settings)
    assert report.emails_planned == 80
    assert _known_rows(postgres_db, "outbound_messages") == 80
    assert _known_rows(postgres_db, "enrollments") == 80


@pytest.mark.postgres
def test_a_small_change_leaves_the_statistics_to_autovacuum(postgres_db: Database) -> None:
    with postgres_db.session() as s:
        assert statistics.refresh(s, 50) == []  # autovacuum's threshold: 50 + 10 % of rows
        assert sorted(statistics.refresh(s, 51)) == ["enrollments", "outbound_messages"]


def test_sqlite_has_no_planner_statistics_to_refresh(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        assert statistics.refresh(s, 10_000) == []

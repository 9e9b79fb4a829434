"""Two ticks (and two senders) at once on PostgreSQL never execute a step twice."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from engine.clock import VirtualClock
from engine.outbound.send import send_due
from engine.outbound.tick import TickReport, tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Event, OutboundMessage
from tests.integration.sending.factory import advance_to_due, build_world
from tests.support.smtp_server import SmtpSink

N = 60


def _together(n: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in n threads released at the same moment; return their results."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.mark.postgres
def test_concurrent_ticks_and_senders_never_double(
    postgres_db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    emails = [f"p{i}@beta.example" for i in range(N)]
    with postgres_db.session() as s:
        build_world(s, clock.now(), emails, smtp_url=sink.url, daily_cap=1000)
    # separate Database objects: separate connection pools, as separate processes would have
    dbs = [Database(postgres_db.url) for _ in range(4)]
    try:
        reports = _together(4, lambda i: tick(dbs[i], clock, settings, batch_size=7))
        planned = [r.emails_planned for r in reports if isinstance(r, TickReport)]
        assert sum(planned) == N
        assert sum(1 for p in planned if p) >= 2  # the work really was shared
        with postgres_db.session() as s:
            assert s.scalar(select(func.count()).select_from(OutboundMessage)) == N
            executed = s.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.type == "enrollment.step_executed")
            )
            assert executed == N
        advance_to_due(postgres_db, clock)
        _together(4, lambda i: send_due(dbs[i], clock, settings))
    finally:
        for d in dbs:
            d.dispose()
    ids = [m.message_id for m in sink.messages]
    assert sink.data_received == N
    assert len(ids) == N and len(set(ids)) == N

"""Two Celery workers and two beats on PostgreSQL + Redis send every message exactly once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from engine.core.states import EnrollmentState, MessageState
from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.e2e.workers.cluster import (
    Cluster,
    count_messages,
    enrollment_states,
    message_states,
    now_utc,
    received_ids,
    seed,
    wait_until,
)
from tests.support.smtp_server import SmtpSink as Sink

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

DAY = 86_400


@pytest.mark.timeout(900)
def test_two_workers_and_two_beats_send_each_email_exactly_once(
    cluster: Cluster, cluster_db: Database, sink: Sink
) -> None:
    n = 2000
    seed(cluster_db, sink.url, mailboxes=8, enrollments=n, at=now_utc())
    cluster.worker("w1")  # celery -A workers.app worker …
    cluster.worker("w2", cli=True)  # kadenz worker …
    cluster.beat("beat1")
    cluster.beat("beat2", cli=True)
    try:
        started = time.monotonic()
        wait_until("the ticks to plan every email", lambda: count_messages(cluster_db) == n, 240)
        planned = time.monotonic()
        cluster.move_time(DAY)  # every planned slot ("later today") has now come
        wait_until(
            "every email to be sent",
            lambda: message_states(cluster_db).get(MessageState.SENT) == n,
            240,
        )
        wait_until(
            "every enrollment to finish",
            lambda: enrollment_states(cluster_db) == {EnrollmentState.FINISHED: n},
            240,
        )
        done = time.monotonic()
        print(
            f"planned {n} in {planned - started:.1f}s, sent and finished in {done - planned:.1f}s"
        )
    except AssertionError:
        print(cluster.logs())
        raise
    finally:
        cluster.stop()
    received = received_ids(sink)
    assert sink.data_received == n  # no DATA the server answered otherwise
    assert len(received) == n
    assert len(set(received)) == n
    with cluster_db.session() as s:
        ours = set(s.scalars(select(OutboundMessage.message_id)).all())
        senders = set(s.scalars(select(OutboundMessage.mailbox_id)).all())
    assert set(received) == ours
    assert len(senders) == 8
    assert message_states(cluster_db) == {MessageState.SENT: n}

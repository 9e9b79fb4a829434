"""Every task body runs against a real PostgreSQL and Redis (called in-process, no broker):
the thin wrappers call the engine services with the signatures those services have."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.integration.sending.factory import build_world
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


def test_periodic_task_bodies_run_on_an_empty_workspace(services_env: runtime.Services) -> None:
    tasks.tick()
    assert tasks.dispatch_sends() == 0
    assert tasks.resolve_leases() == 0
    assert tasks.resume_due() == 0
    assert tasks.dispatch_polls() == 0
    tasks.refresh_rollups()
    tasks.deliver_webhooks()


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
    services_env: runtime.Services,
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


def _planned(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(OutboundMessage)) or 0

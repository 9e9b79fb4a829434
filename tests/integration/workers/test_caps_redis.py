"""The Redis limiter passes the same RateLimiter contract as the in-process one, and more:
it is exact across processes and re-learns recent sends after Redis loses its data."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from engine.clock import VirtualClock
from engine.outbound.limits.caps import Limits
from engine.outbound.limits.redis_limiter import PastSend, RedisRateLimiter, database_seeder
from engine.store.db import Database
from tests.integration.sending.caps_contract import *  # noqa: F403
from tests.integration.sending.caps_contract import T0, MakeLimiter
from tests.integration.sending.factory import add_send_history, build_world

pytestmark = pytest.mark.redis


@pytest.fixture
def client(redis_url: str, redis_prefix: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    yield conn
    keys = list(conn.scan_iter(match=f"{redis_prefix}*", count=1000))
    if keys:
        conn.delete(*keys)
    conn.close()


@pytest.fixture
def make_limiter(client: redis.Redis, redis_prefix: str) -> MakeLimiter:
    counter = itertools.count()
    return lambda: RedisRateLimiter(client, f"{redis_prefix}{next(counter)}:")


def test_the_last_slot_goes_to_exactly_one_of_many_threads(
    client: redis.Redis, redis_prefix: str
) -> None:
    limits = Limits(label="anna", daily=25)
    allowed: list[bool] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        # one connection per thread, as separate worker processes would have
        limiter = RedisRateLimiter(
            redis.Redis(connection_pool=client.connection_pool), redis_prefix
        )
        barrier.wait()
        for _ in range(10):
            allowed.append(limiter.acquire(7, "a.example", T0, limits).allowed)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 80
    assert sum(allowed) == 25


def test_after_redis_lost_its_data_the_limiter_relearns_from_a_seeder(
    client: redis.Redis, redis_prefix: str
) -> None:
    sends = [PastSend(i, 3, "beta.example", T0 - timedelta(hours=i)) for i in range(1, 4)]
    calls: list[int] = []

    def seeder() -> list[PastSend]:
        calls.append(1)
        return sends

    limits = Limits(label="anna", daily=4)
    first = RedisRateLimiter(client, redis_prefix, seeder)
    second = RedisRateLimiter(client, redis_prefix, seeder)
    assert first.acquire(3, "beta.example", T0, limits).allowed  # seeds 3, takes the 4th
    assert not second.acquire(3, "beta.example", T0, limits).allowed
    assert len(calls) == 1
    second.seed()  # seeding twice (two workers at once) counts each send once
    refused = first.acquire(3, "beta.example", T0 + timedelta(minutes=1), limits)
    assert not refused.allowed and refused.retry_at == T0 - timedelta(hours=3) + timedelta(hours=24)


@pytest.mark.postgres
def test_database_seeder_reads_the_last_24_hours(
    postgres_db: Database, clock: VirtualClock, client: redis.Redis, redis_prefix: str
) -> None:
    now = clock.now()
    with postgres_db.session() as s:
        world = build_world(s, now, ["a@beta.example", "b@beta.example", "c@beta.example"])
        add_send_history(s, world, now, domain="Beta.example")
    seeder = database_seeder(postgres_db, clock.now)
    assert sorted(s.domain for s in seeder()) == ["beta.example", "beta.example"]
    limiter = RedisRateLimiter(client, redis_prefix, seeder)
    limits = Limits(label="anna", daily=3, per_domain_daily=3)  # 2 seeded + 1 new = 3
    assert limiter.acquire(world.mailbox_id, "beta.example", now, limits).allowed
    refused = limiter.acquire(world.mailbox_id, "beta.example", now, limits)
    assert not refused.allowed and refused.reason and "cap 3" in refused.reason


def test_a_send_stamped_later_by_another_process_still_counts(
    client: redis.Redis, redis_prefix: str
) -> None:
    """Across processes `now` is not monotonic: a claim that read the clock first may
    acquire last. The slots the other process took must still count."""
    limits = Limits(label="anna", daily=100, hourly=3)
    later, earlier = RedisRateLimiter(client, redis_prefix), RedisRateLimiter(client, redis_prefix)
    for _ in range(3):
        assert later.acquire(1, "a.example", T0 + timedelta(seconds=2), limits).allowed
    refused = earlier.acquire(1, "a.example", T0, limits)
    assert not refused.allowed
    assert refused.retry_at == T0 + timedelta(seconds=2) + timedelta(hours=1)

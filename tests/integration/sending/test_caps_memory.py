"""The in-process limiter passes the RateLimiter contract; seeding from the database."""

from __future__ import annotations

import pytest

from engine.clock import VirtualClock
from engine.outbound.limits.caps import Limits, MemoryRateLimiter, seed_from_database
from engine.store.db import Database
from tests.integration.sending.caps_contract import *  # noqa: F403
from tests.integration.sending.caps_contract import MakeLimiter
from tests.integration.sending.factory import add_send_history, build_world


@pytest.fixture
def make_limiter() -> MakeLimiter:
    return MemoryRateLimiter


def test_seeding_counts_the_last_24_hours_of_sends(db: Database, clock: VirtualClock) -> None:
    now = clock.now()
    with db.session() as s:
        world = build_world(s, now, ["a@beta.example", "b@beta.example", "c@beta.example"])
        add_send_history(s, world, now, domain="beta.example")
    limiter = MemoryRateLimiter()
    with db.session() as s:
        assert seed_from_database(limiter, s, now) == 2  # the 30-hour-old one is out
    limits = Limits(label="anna", daily=3)
    assert limiter.acquire(world.mailbox_id, "beta.example", now, limits).allowed
    assert not limiter.acquire(world.mailbox_id, "beta.example", now, limits).allowed

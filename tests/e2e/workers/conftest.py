from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.connection import parse_url

from engine.store.db import Database
from tests.e2e.workers.cluster import Cluster
from tests.support.smtp_server import SmtpSink


@pytest.fixture(scope="session")
def broker_db() -> int:
    """A Redis database number for this session's broker (not 0, not the fixtures' 15)."""
    return int(os.environ.get("KADENZ_TEST_BROKER_DB") or (os.getpid() % 13) + 1)


def redis_db_url(base: str, number: int) -> str:
    parts = parse_url(base)
    return f"redis://{parts.get('host', '127.0.0.1')}:{parts.get('port', 6379)}/{number}"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def cluster_db(fresh_postgres_url: object) -> Iterator[Database]:
    db = Database(fresh_postgres_url())  # type: ignore[operator]
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def cluster(
    tmp_path: Path, cluster_db: Database, redis_url: str, redis_prefix: str, broker_db: int
) -> Iterator[Cluster]:
    c = Cluster(tmp_path, cluster_db.url, redis_db_url(redis_url, broker_db), redis_prefix)
    c.move_time(0)
    yield c
    c.stop()
    c.delete_keys()

"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, the mail corpus.

A service that is missing skips its tests on a developer's machine but fails them under CI
(`CI` set): CI must never pass by skipping (see .ci/run).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.clock import VirtualClock
from engine.store.db import Database
from engine.store.models import Base

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(
    os.environ.get("KADENZ_CORPUS")
    # `shared/corpus` beside the checkout, or beside a parent of it (git worktrees)
    or next(
        (p / "shared" / "corpus" for p in ROOT.parents if (p / "shared" / "corpus").is_dir()),
        ROOT.parent / "shared" / "corpus",
    )
)
IN_CI = bool(os.environ.get("CI"))
POSTGRES_URL = os.environ.get(
    "KADENZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("KADENZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def missing(what: str) -> None:
    """Skip locally, fail under CI."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI but is not available", pytrace=False)
    pytest.skip(f"{what} not available")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # a Monday, 09:00 in Berlin


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        missing(f"the shared mail corpus at {CORPUS}")
    return CORPUS


# --- databases -------------------------------------------------------------------------


def _truncate(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def _sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("sqlite") / "kadenz.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of a PostgreSQL server database we may create other databases from."""
    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        missing(f"PostgreSQL at {POSTGRES_URL} ({type(exc).__name__})")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def fresh_postgres_url(postgres_server_url: str) -> Iterator[object]:
    """A factory of throwaway PostgreSQL databases, dropped at the end of the session."""
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"kadenz_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return (
            make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
        )

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _postgres_db(fresh_postgres_url: object) -> Iterator[Database]:
    db = Database(fresh_postgres_url())  # type: ignore[operator]
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(_sqlite_db: Database) -> Iterator[Database]:
    yield _sqlite_db
    _truncate(_sqlite_db)


@pytest.fixture
def postgres_db(_postgres_db: Database) -> Iterator[Database]:
    yield _postgres_db
    _truncate(_postgres_db)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Database:
    """The same test on both databases, each emptied after the test."""
    name = "sqlite_db" if request.param == "sqlite" else "postgres_db"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


# --- redis -----------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        missing(f"Redis at {REDIS_URL} ({type(exc).__name__})")
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix unique to this test, so parallel runs never see each other's keys."""
    return f"kadenz-test:{uuid.uuid4().hex[:10]}:"

"""The database: engine creation, sessions, and migrating a workspace to the newest schema."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import ConfigError
from engine.store import bi_views

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An Engine for `url`, tuned per database. A bad URL is a ConfigError, not a traceback."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"KADENZ_DATABASE_URL: {url!r} is not a database URL "
            "(use sqlite:///path/kadenz.db or postgresql+psycopg://user@host/db)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy own transactions (pysqlite's implicit BEGIN is off) so that
        # `BEGIN IMMEDIATE` makes the single writer explicit.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    raise ConfigError(
        f"KADENZ_DATABASE_URL: {parsed.get_backend_name()!r} is not supported "
        "(use SQLite or PostgreSQL)"
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver; SQLAlchemy issues BEGIN
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    """An Engine plus a session factory. One per process, created at the edge."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Create or upgrade the schema (idempotent)."""
        # Alembic narrates every migration at INFO; a user's `kadenz run` log is not the place.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        with self.engine.begin() as conn:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            migrating = _pending(cfg, conn)
            if migrating:
                # The BI views are derived: off while the tables change, back once at head.
                bi_views.drop(conn)
            command.upgrade(cfg, revision)
            if revision == "head" and (migrating or not bi_views.up_to_date(conn)):
                bi_views.create(conn)

    def downgrade(self, revision: str) -> None:
        with self.engine.begin() as conn:
            bi_views.drop(conn)
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)

    def is_initialised(self) -> bool:
        return inspect(self.engine).has_table("alembic_version")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _pending(cfg: Config, conn: Connection) -> bool:
    """Whether the database is behind the migration scripts' head(s)."""
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    current = set(MigrationContext.configure(conn).get_current_heads())
    return current != heads

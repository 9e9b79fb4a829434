"""Migrations produce exactly the models' schema, and go down and up again, on both databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.store.db import Database
from engine.store.models import Base


def _drift(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def _roundtrip(db: Database) -> None:
    db.upgrade()
    assert _drift(db) == []
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    db.downgrade("base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.upgrade()
    db.upgrade()  # idempotent
    assert _drift(db) == []


def test_sqlite_migrations_match_models(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/m.db")
    try:
        _roundtrip(db)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_models(fresh_postgres_url: Callable[[], str]) -> None:
    db = Database(fresh_postgres_url())
    try:
        _roundtrip(db)
    finally:
        db.dispose()

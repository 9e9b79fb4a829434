"""`column IN (values)` in a form PostgreSQL and psycopg parse once: `= ANY(array)`.

An IN list renders one placeholder per value, so every batch size is a new statement text:
psycopg re-splits it (a cost that grows with the list: ~17 ms for 800 values, measured),
PostgreSQL parses and plans it afresh, and neither can reuse a prepared statement. `= ANY`
binds the whole list as one array parameter: one statement text whatever the size, and
PostgreSQL still uses the column's index. SQLite has no arrays: a plain IN there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, any_, bindparam, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def any_of(column: Any, values: Iterable[Any], dialect: str) -> ColumnElement[bool]:
    """`column` is one of `values`, for the database `dialect` ("postgresql", "sqlite")."""
    values = list(values)
    if dialect == "postgresql":
        return column == any_(literal(values, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def any_of_bound(column: Any, key: str, dialect: str) -> ColumnElement[bool]:
    """`any_of` for a statement built once: the values are bound later under `key`."""
    if dialect == "postgresql":
        return column == any_(bindparam(key, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(bindparam(key, expanding=True))  # type: ignore[no-any-return]


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name

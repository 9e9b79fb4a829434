"""Bulk INSERT … ON CONFLICT for thousands of rows at once, fast on both databases.

SQLite: SQLAlchemy Core with RETURNING, which sends pages of multi-row VALUES.
PostgreSQL: one `INSERT … SELECT * FROM unnest(array, array, …)` per batch. The multi-VALUES
form would be a statement of tens of thousands of placeholders that psycopg re-parses on
every call (measured: most of the CPU of a 100k-row import); arrays keep it at one
placeholder per column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


def insert_many(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert `rows` (all with the same keys). On a `conflict` with existing rows: update the
    `update` columns from the new row, or do nothing when `update` is empty.
    Returns the `returning` columns of rows inserted or updated.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _postgres(session, table, rows, conflict, update, returning)
    stmt = sqlite.insert(table)
    if conflict:
        stmt = (
            stmt.on_conflict_do_update(
                index_elements=list(conflict), set_={c: stmt.excluded[c] for c in update}
            )
            if update
            else stmt.on_conflict_do_nothing(index_elements=list(conflict))
        )
    # RETURNING makes SQLAlchemy batch rows into multi-row VALUES ("insertmanyvalues").
    columns = [table.c[c] for c in returning] or [next(iter(table.primary_key.columns))]
    result = session.connection().execute(stmt.returning(*columns), rows)
    return [tuple(r) for r in result] if returning else []


def _postgres(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    conflict: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    from psycopg.types.json import Jsonb

    names = list(rows[0])
    params: dict[str, list[Any]] = {}
    arrays: list[str] = []
    for i, name in enumerate(names):
        column = table.c[name]
        sql_type = column.type.compile(dialect=_PG)
        is_json = isinstance(column.type, JSON) or sql_type in ("JSON", "JSONB")
        values = [row[name] for row in rows]
        if is_json:
            values = [None if v is None else Jsonb(v) for v in values]
        elif hasattr(column.type, "process_bind_param"):  # e.g. UTCDateTime: aware UTC check
            values = [column.type.process_bind_param(v, _PG) for v in values]
        params[f"p{i}"] = values
        arrays.append(f"CAST(:p{i} AS {sql_type}[])")
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO "{table.name}" ({quoted}) SELECT * FROM unnest({", ".join(arrays)})'
    if conflict:
        target = ", ".join(f'"{c}"' for c in conflict)
        if update:
            sets = ", ".join(f'"{c}" = excluded."{c}"' for c in update)
            sql += f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT ({target}) DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(f'"{c}"' for c in returning)
    result = session.connection().execute(text(sql), params)
    return [tuple(r) for r in result] if returning else []

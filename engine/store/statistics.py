"""Planner statistics kept up with bulk changes (PostgreSQL).

A tick can plan thousands of emails in a second, and sending moves them on as fast. Until
autovacuum's next ANALYZE (its launcher wakes once a minute) the planner still believes the
old shape of the tables — no planned message, no enrollment waiting for a send — and for
an `id = ANY(…) AND state = …` lookup it then prefers the (state, …) index over the primary
key: every claim and every batch of outcomes walks the whole backlog instead of its 50 rows
(measured: 25–30 ms instead of 1 ms per claim at 20,000 planned, growing with the backlog).

PostgreSQL's advice is to ANALYZE after a large change. `refresh` applies autovacuum's own
rule — more rows changed than 50 + 10 % of the table's size as the planner knows it
(`pg_class.reltuples`) — at once, counting the rows the caller just changed (the server's
own counters reach `pg_stat_user_tables` only about once a second, too late for this).
SQLite has no such planner statistics to go stale here; the call does nothing there.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# The tables whose state columns the claim, the tick and the outcomes filter on.
SEND_PATH_TABLES = ("outbound_messages", "enrollments")

# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor, PostgreSQL's defaults.
_THRESHOLD = 50
_SCALE = 0.1

_SIZES = text(
    "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(:tables) AND relkind = 'r' "
    "AND relnamespace = to_regnamespace(current_schema())"
)


def refresh(
    session: Session, changed: int, tables: tuple[str, ...] = SEND_PATH_TABLES
) -> list[str]:
    """ANALYZE those of `tables` for which `changed` rows are a large change; returns them.
    Commits (ANALYZE takes a moment; it should not hold the caller's locks)."""
    if session.get_bind().dialect.name != "postgresql" or changed <= _THRESHOLD:
        return []
    sizes = session.execute(_SIZES, {"tables": list(tables)}).all()
    # reltuples is -1 for a table never analyzed or vacuumed (PostgreSQL 14+).
    stale = [str(name) for name, rows in sizes if changed > _THRESHOLD + _SCALE * max(rows, 0)]
    for name in stale:
        if name in tables:  # only our own names ever reach the statement
            session.execute(text(f'ANALYZE "{name}"'))
    session.commit()
    return stale

"""Figure 5 — report latency on a big event log, against a bare SQL GROUP BY.

Events are generated into the real `events` table of a throwaway PostgreSQL database in
steps (a small slice, a tenth, then all), so the table shows how each side scales.
Ours is what `kadenz report` runs: bring the rollups up to date (`refresh_rollups`), then
`build_report`. Folding events into rollups is paid once as events arrive, and it is slow
today, so it is measured on the first slice only and estimated beyond it; the report itself
reads only the rollups.
"""

from __future__ import annotations

import time

import psycopg

from bench import seed
from bench.common import (
    Options,
    Row,
    durations_ms,
    not_measured,
    postgres_available,
    psycopg_url,
    throwaway_postgres,
)
from engine.store.db import Database

TARGET = "< 1 s on 10M events"
# Rollups are folded in Python, slowly: measured on this many events, estimated beyond.
SLICE, QUICK_SLICE = 20_000, 2_000
# The raw limit: one pass over the whole log, counted per sequence and event type.
GROUP_BY = "SELECT sequence_id, type, count(*) FROM events GROUP BY 1, 2"


def run(opts: Options) -> list[Row]:
    if not postgres_available():
        return [not_measured("reports", "PostgreSQL not reachable", TARGET)]
    try:
        from engine.services import reports, rollups
    except ImportError:
        reports = rollups = None  # type: ignore[assignment]
    first = QUICK_SLICE if opts.quick else SLICE
    sizes = sorted({first, max(opts.events // 10, first), opts.events})
    rows: list[Row] = []
    fold_rate = 0.0
    with throwaway_postgres("reports") as url:
        db = Database(url)
        db.upgrade()
        have = 0
        for size in sizes:
            start = time.perf_counter()
            seed.seed_events(db, have + 1, size - have)
            seeded = time.perf_counter() - start
            have = size
            with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE events")

                def group_by(conn: psycopg.Connection = conn) -> None:
                    conn.execute(GROUP_BY).fetchall()

                base = durations_ms(group_by, opts.runs)
            label = f"report on {size:,} events"
            if reports is None:
                why = "engine.services.reports is not on main yet"
                rows.append(not_measured(label, why, TARGET, base))
                continue
            if size > first:
                why = (
                    f"rollups not folded: {size:,} events would take ≈ "
                    f"{size / max(fold_rate, 0.001) / 3600:,.1f} h at the {fold_rate:,.0f} "
                    f"events/s measured on the first {first:,} (event generation: {seeded:.0f} s)"
                )
                rows.append(not_measured(label, why, TARGET, base))
                continue
            start = time.perf_counter()
            folded = rollups.refresh_rollups(db)
            fold_rate = folded / (time.perf_counter() - start)

            def build() -> None:
                rollups.refresh_rollups(db)  # what the CLI does first: a no-op when current
                with db.session() as session:
                    reports.build_report(session, by="sequence")

            ours = durations_ms(build, opts.runs)
            row = Row(label, ours, base, TARGET, None, higher_is_better=False)
            row.note = f"rollups folded at {fold_rate:,.0f} events/s (paid as events arrive)"
            rows.append(row)
        db.dispose()
    return rows

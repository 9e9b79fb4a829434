"""Figure 5 — report latency on a big event log, against a bare SQL GROUP BY.

Events are COPYed into the real `events` table of a throwaway PostgreSQL database in two
steps (a tenth, then all), so the table shows how each side scales with the log's size.
Ours is what `kadenz report` runs: bring the rollups up to date (`refresh_rollups`, timed
on its own: that cost is paid incrementally as events arrive), then `build_report`.
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
# Rollups are folded in Python; beyond this many events per run the fold is estimated.
REFRESH_CAP = 1_000_000
# The raw limit: one pass over the whole log, counted per sequence and event type.
GROUP_BY = "SELECT sequence_id, type, count(*) FROM events GROUP BY 1, 2"


def run(opts: Options) -> list[Row]:
    if not postgres_available():
        return [not_measured("reports", "PostgreSQL not reachable", TARGET)]
    try:
        from engine.services import reports, rollups
    except ImportError:
        reports = rollups = None  # type: ignore[assignment]
    sizes = sorted({max(opts.events // 10, 1), opts.events})
    rows: list[Row] = []
    with throwaway_postgres("reports") as url:
        db = Database(url)
        db.upgrade()
        have = folded_total = 0
        fold_rate = 0.0
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
            note = f"COPY of the events: {seeded:.0f} s"
            if reports is None:
                rows.append(
                    not_measured(label, "engine.services.reports is not on main yet", TARGET, base)
                )
                continue
            if size - folded_total > REFRESH_CAP:
                why = (
                    f"folding {size - folded_total:,} new events into the rollups would take "
                    f"≈ {(size - folded_total) / max(fold_rate, 1):,.0f} s at the "
                    f"{fold_rate:,.0f} events/s measured above (over the run's budget)"
                )
                rows.append(not_measured(label, why, TARGET, base))
                continue
            start = time.perf_counter()
            folded = rollups.refresh_rollups(db)
            refresh = time.perf_counter() - start
            folded_total += folded
            fold_rate = folded / refresh if refresh else 0.0

            def build() -> None:
                rollups.refresh_rollups(db)  # what the CLI does first: a no-op when current
                with db.session() as session:
                    reports.build_report(session, by="sequence")

            ours = durations_ms(build, opts.runs)
            met = ours.median < 1000 if size >= 10_000_000 else None
            row = Row(label, ours, base, TARGET, met, higher_is_better=False)
            row.note = (
                f"{note}; rollups folded {folded:,} events in {refresh:.0f} s "
                f"({fold_rate:,.0f} events/s, paid as events arrive, not per report)"
            )
            rows.append(row)
        db.dispose()
    return rows

"""Figure 5 — report latency on a big event log, against a bare SQL GROUP BY.

Events are generated into the real `events` table of a throwaway PostgreSQL database in
steps (a hundredth, a tenth, then all: 100k, 1M and 10M events in the full preset), so the
table shows how each side scales. At each step the new events are folded into the rollups
through the product's own entry point (`refresh_rollups`, as `kadenz report` and the beat task
run it) and the fold rate is reported. Ours is then what `kadenz report` runs: bring the
rollups up to date (a no-op now), then `build_report`. The baseline is one pass over the whole
raw log, counted per sequence and event type. The BI row times a BI tool's first question
(reply rate per sequence) against the documented `kadenz_bi.daily_facts` view.
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
TARGET_EVENTS = 10_000_000
GROUP_BY = "SELECT sequence_id, type, count(*) FROM events GROUP BY 1, 2"
# What a BI tool asks first: the reply rate per sequence, from the documented view (docs/bi.md).
BI_QUERY = (
    "SELECT sequence_key, SUM(contacted), SUM(bounced), SUM(replied) "
    "FROM kadenz_bi.daily_facts GROUP BY sequence_key"
)
BI_NOTE = "reply rate per sequence from kadenz_bi.daily_facts (the rollups behind a view)"


def run(opts: Options) -> list[Row]:
    if not postgres_available():
        return [not_measured("reports", "PostgreSQL not reachable", TARGET)]
    from engine.reporting import reports, rollups

    sizes = sorted({max(opts.events // 100, 1), max(opts.events // 10, 1), opts.events})
    rows: list[Row] = []
    with throwaway_postgres("reports") as url:
        db = Database(url)
        db.upgrade()
        have = 0
        for size in sizes:
            start = time.perf_counter()
            seed.seed_events(db, have + 1, size - have)
            seeded = time.perf_counter() - start
            start = time.perf_counter()
            folded = rollups.refresh_rollups(db)
            fold_rate = folded / (time.perf_counter() - start)
            have = size
            with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE events")

                def group_by(conn: psycopg.Connection = conn) -> None:
                    conn.execute(GROUP_BY).fetchall()

                base = durations_ms(group_by, opts.runs)

            def build() -> None:
                rollups.refresh_rollups(db)  # what the CLI does first: a no-op when current
                with db.session() as session:
                    reports.build_report(session, by="sequence")

            ours = durations_ms(build, opts.runs)
            # The target is stated for 10M events: smaller steps get no verdict.
            met = ours.median < 1000 if size >= TARGET_EVENTS else None
            note = (
                f"{folded:,} new events folded at {fold_rate:,.0f} events/s "
                f"(generated in {seeded:.0f} s)"
            )
            rows.append(Row(f"report on {size:,} events", ours, base, TARGET, met, note, False))

            def bi_view() -> None:
                with db.engine.connect() as conn:
                    conn.exec_driver_sql(BI_QUERY).fetchall()

            bi = durations_ms(bi_view, opts.runs)
            met = bi.median < 1000 if size >= TARGET_EVENTS else None
            rows.append(
                Row(
                    f"BI view daily_facts on {size:,} events", bi, base, TARGET, met, BI_NOTE, False
                )
            )
        db.dispose()
    return rows

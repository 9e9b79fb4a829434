"""Figure — `kadenz forecast` over 10,000 live enrollments on PostgreSQL.

Half of the enrollments are due now, half in 30 days (the horizon is 14 days). Ours: the
whole forecast (read the live set, walk each enrollment with the tick's planner, the daily
table against caps). Baseline: the raw query that only reads the same rows (enrollments
with their prospect's time zone, the planned messages) with psycopg, in the same run.
"""

from __future__ import annotations

import psycopg

from bench import seed
from bench.common import (
    Options,
    Row,
    durations_ms,
    not_measured,
    postgres_available,
    psycopg_url,
    temp_dir,
    throwaway_postgres,
)
from engine.outbound.forecast import forecast
from engine.store.db import Database

SIZE = 10_000
RAW_READ = """
SELECT e.id, e.version_id, e.mailbox_id, e.step_index, e.next_run_at, e.step_started_at,
       p.timezone
FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
WHERE e.state = 'active'
"""
RAW_OUTBOX = """
SELECT m.enrollment_id, m.state, m.step_id, m.not_before
FROM outbound_messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE e.state = 'active' AND m.state <> 'cancelled'
"""


def run(opts: Options) -> list[Row]:
    label = f"forecast 14 days @ {SIZE:,} live enrollments"
    if not postgres_available():
        return [not_measured(label, "PostgreSQL not reachable", "< 2 s")]
    with throwaway_postgres("forecast") as url, temp_dir("forecast") as tmp:
        db = Database(url)
        try:
            db.upgrade()
            ws = seed.workspace(db, tmp, 4, "smtp://127.0.0.1:1")
            ws.enroll_up_to(SIZE, due=SIZE // 2)
            with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
                conn.execute("ANALYZE")

                def raw() -> None:
                    conn.execute(RAW_READ).fetchall()
                    conn.execute(RAW_OUTBOX).fetchall()

                base = durations_ms(raw, max(opts.runs, 3))
            counted: list[int] = []

            def ours() -> None:
                with db.session() as session:
                    counted.append(len(forecast(session, seed.NOW, 14).emails))

            mine = durations_ms(ours, max(opts.runs, 3))
        finally:
            db.dispose()
    met = mine.median < 2000
    note = f"{counted[-1]:,} emails forecast; baseline: the raw reads of the same rows"
    return [Row(label, mine, base, "< 2 s", met, note=note, higher_is_better=False)]

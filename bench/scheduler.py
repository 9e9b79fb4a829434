"""Figure 2 — the scheduler at scale on PostgreSQL.

One database, grown in place: 10k → 100k → 1M active enrollments with nothing due (the
empty tick is timed at each size, it must stay flat), then 100k of the 1M are made due and
we compare claims + step executions per second (emails written to the outbox, not sent)
against the raw `FOR UPDATE SKIP LOCKED` claim-and-update loop on the same table.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

from bench import seed
from bench.common import (
    Options,
    Row,
    Sample,
    durations_ms,
    not_measured,
    postgres_available,
    psycopg_url,
    temp_dir,
    throwaway_postgres,
)
from engine.clock import VirtualClock
from engine.outbound.tick import tick
from engine.settings import load_settings
from engine.store.db import Database

BATCH = 500  # the engine's default batch_size: same transaction size for both sides

RAW_CLAIM = """
WITH claimed AS (
    SELECT id FROM enrollments
    WHERE state = 'active' AND next_run_at <= %(now)s
    ORDER BY next_run_at, id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
UPDATE enrollments AS e
SET step_index = e.step_index + 1, next_run_at = NULL, updated_at = %(now)s
FROM claimed WHERE e.id = claimed.id
"""

RESET_DUE = """
UPDATE enrollments
SET step_index = 0, step_id = %(step)s, state = 'active',
    next_run_at = %(now)s - make_interval(secs => (id - 1) %% 3600)
WHERE id <= %(due)s
"""


def raw_claim_loop(url: str, limit: int | None = None) -> int:
    """Claim-and-update every due row in batches, one transaction per batch."""
    done = 0
    with psycopg.connect(psycopg_url(url)) as conn:
        while limit is None or done < limit:
            with conn.transaction():
                cur = conn.execute(RAW_CLAIM, {"now": seed.NOW, "batch": BATCH})
                n = cur.rowcount
            if n <= 0:
                break
            done += n
    return done


def raw_empty_claim(url: str) -> Callable[[], object]:
    conn = psycopg.connect(psycopg_url(url), autocommit=False)

    def once() -> None:
        with conn.transaction():
            conn.execute(RAW_CLAIM, {"now": seed.NOW, "batch": BATCH})

    once.close = conn.close  # type: ignore[attr-defined]
    return once


def run(opts: Options) -> list[Row]:
    target_claims = "≥ 50% of raw claim loop"
    target_empty = "< 50 ms at 1M"
    if not postgres_available():
        return [not_measured("scheduler: claims+steps/s", "PostgreSQL not reachable")]
    rows: list[Row] = []
    sizes = [10_000, 100_000, opts.enrollments] if opts.enrollments > 100_000 else [10_000, 100_000]
    with throwaway_postgres("sched") as url, temp_dir("sched") as tmp:
        db = Database(url)
        db.upgrade()
        ws = seed.workspace(db, tmp, 4, "smtp://127.0.0.1:1")
        settings = load_settings(home=tmp / "home", database_url=url)
        clock = VirtualClock(seed.NOW)
        for size in sizes:
            ws.enroll_up_to(size)
            raw = raw_empty_claim(url)
            try:
                base = durations_ms(raw, max(opts.runs, 5))
            finally:
                raw.close()  # type: ignore[attr-defined]
            label = f"empty tick @ {size:,} enrollments"
            ours = durations_ms(lambda: tick(db, clock, settings), max(opts.runs, 5))
            met = ours.median < 50 if size >= 1_000_000 else None
            rows.append(
                Row(
                    label,
                    ours,
                    base,
                    target_empty if size >= 1_000_000 else "flat",
                    met,
                    higher_is_better=False,
                )
            )

        due = min(opts.due, ws.enrolled)
        label = f"claims+steps/s ({due:,} due of {ws.enrolled:,})"
        with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
            conn.execute(RESET_DUE, {"step": ws.step_id, "now": seed.NOW, "due": due})
            conn.execute("ANALYZE enrollments")
        base_values = []
        for _ in range(opts.runs):
            start = time.perf_counter()
            n = raw_claim_loop(url)
            base_values.append(n / (time.perf_counter() - start))
            with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
                conn.execute(RESET_DUE, {"step": ws.step_id, "now": seed.NOW, "due": due})
        base = Sample(base_values, "rows/s")
        limit = min(opts.tick_limit, due // max(opts.runs, 1))
        ours_values = []
        for _ in range(opts.runs):
            start = time.perf_counter()
            report = tick(db, clock, settings, limit=limit)
            ours_values.append(report.executed / (time.perf_counter() - start))
        rows.append(
            Row(
                label,
                Sample(ours_values, "steps/s"),
                base,
                target_claims,
                note=f"ours: tick(limit={limit:,}) ×{opts.runs}; raw: all {due:,} ×{opts.runs}",
            )
        )
        rows[-1].met = (rows[-1].ratio or 0) >= 0.5
        db.dispose()
    return rows

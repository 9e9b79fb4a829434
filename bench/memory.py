"""Figure 3 — peak RSS of the engine while many enrollments exist: flat, not growing.

Embedded: a fresh process opens the workspace and runs embedded rounds (tick → send to the
sink) with 200 enrollments due, once at 10k and once at the full size; its peak RSS is its
own VmHWM (bench.common.PeakWatch). The baseline is the floor: a process that imports the
engine and counts the rows.

Worker: a fresh `celery worker` (prefork) and beat on PostgreSQL with 10k, 100k and (full
run) 1M enrollments, 200 of them due; the worker ticks and sends them to the sink. Each of
its processes is sampled from /proc: the figure is the largest peak RSS (VmHWM) of one
process, the note adds the group's summed peaks and its peak PSS. The floor is a process that
imports the worker's tasks and counts the rows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench import seed
from bench.cluster import Cluster, MemorySampler, sent_count
from bench.common import (
    NotMeasured,
    Options,
    Row,
    Sample,
    not_measured,
    postgres_available,
    run_child,
    temp_dir,
    throwaway_postgres,
)
from bench.sink import SinkProcess
from engine.store.db import Database

TARGET = "< 200 MB, flat"
DUE = 200  # due per run: enough to exercise tick, render and send, small enough to be quick
ENGINE = """
import sys
from bench.seed import NOW
from engine.clock import VirtualClock
from engine.embedded.runner import Runner
from engine.settings import load_settings
from engine.store.db import Database
url, home = sys.argv[1], sys.argv[2]
db = Database(url)
runner = Runner(db, VirtualClock(NOW), load_settings(home=home, database_url=url, secret_key="b"))
sent = 0
for _ in range(5):
    sent += runner.round().send.sent
print(sent)
"""
FLOOR = """
import sys
from sqlalchemy import text
import engine.store.models
from engine.store.db import Database
db = Database(sys.argv[1])
with db.engine.connect() as conn:
    print(conn.execute(text("SELECT count(*) FROM enrollments")).scalar())
"""
WORKER_FLOOR = "import workers.tasks\n" + FLOOR  # the worker's imports (Celery, Redis) too
READY_SECONDS = 120
IDLE_SECONDS = 3  # empty ticks after the work, at this size


def run(opts: Options) -> list[Row]:
    rows: list[Row] = []
    with SinkProcess() as sink:
        for part, what in ((embedded_rows, "embedded engine"), (worker_rows, "worker")):
            try:
                rows.extend(part(opts, sink))
            except Exception as exc:  # one broken half must not hide the other
                why = f"{type(exc).__name__}: {exc}"[:500]
                rows.append(not_measured(f"{what} peak RSS", why, TARGET))
    return rows


def embedded_rows(opts: Options, sink: SinkProcess) -> list[Row]:
    runs = min(opts.runs, 2)  # whole processes at full size: two runs fit the budget
    sizes = [10_000, opts.enrollments] if opts.enrollments > 10_000 else [opts.enrollments]
    rows: list[Row] = []
    with temp_dir("memory") as tmp:
        url = f"sqlite:///{tmp / 'kadenz.db'}"
        db = Database(url)
        db.upgrade()
        ws = seed.workspace(db, tmp, opts.mailboxes, sink.url)
        for size in sizes:
            # later sizes: make_due already made the next runs' work due
            ws.enroll_up_to(size, due=DUE if ws.enrolled == 0 else 0)
            floor = Sample(
                [run_child([sys.executable, "-c", FLOOR, url]).peak_rss_mb for _ in range(runs)],
                "MB",
            )
            label = f"embedded engine peak RSS @ {size:,} enrollments"
            values = []
            for _ in range(runs):
                got = run_child([sys.executable, "-c", ENGINE, url, str(tmp / "home")])
                if got.returncode != 0:
                    raise RuntimeError(got.stderr[-2000:])
                if int(got.stdout.split()[-1]) != DUE:  # it must really have done the work
                    raise RuntimeError(f"the engine process sent {got.stdout.strip()}, not {DUE}")
                values.append(got.peak_rss_mb)
                # make another DUE enrollments due for the next run
                seed.make_due(db, DUE)
            ours = Sample(values, "MB")
            row = Row(label, ours, floor, TARGET, ours.median < 200, higher_is_better=False)
            row.note = "baseline: interpreter + engine imports + one query (the floor)"
            rows.append(row)
        db.dispose()
    return rows


def worker_rows(opts: Options, sink: SinkProcess) -> list[Row]:
    """One PostgreSQL database grown in place; a fresh worker for every run at every size."""
    runs = min(opts.runs, 2)
    sizes = [10_000, 100_000] + ([opts.enrollments] if opts.enrollments > 100_000 else [])
    label = "worker peak RSS @ {:,} enrollments"
    if not postgres_available():
        return [not_measured(label.format(sizes[-1]), "PostgreSQL not reachable", TARGET)]
    rows: list[Row] = []
    with throwaway_postgres("memworker") as url, temp_dir("memworker") as tmp:
        db = Database(url)
        try:
            db.upgrade()
            ws = seed.workspace(db, tmp, opts.mailboxes, sink.url)
            for size in sizes:
                ws.enroll_up_to(size)
                floor = Sample(
                    [
                        run_child([sys.executable, "-c", WORKER_FLOOR, url]).peak_rss_mb
                        for _ in range(runs)
                    ],
                    "MB",
                )
                try:
                    samplers = [
                        worker_once(db, url, tmp, sink, opts.worker_concurrency)
                        for _ in range(runs)
                    ]
                except NotMeasured as exc:
                    rows.append(not_measured(label.format(size), str(exc), TARGET, floor))
                    continue
                ours = Sample([m.largest_mb for m in samplers], "MB")
                row = Row(
                    label.format(size),
                    ours,
                    floor,
                    TARGET,
                    ours.median < 200,
                    higher_is_better=False,
                )
                last = samplers[-1]
                row.note = (
                    f"largest of {len(last.peak_kib)} processes (1 main + "
                    f"{opts.worker_concurrency} pool, VmHWM); all together: "
                    f"{last.summed_mb:,.0f} MB summed peaks, {last.peak_pss_kib / 1024:,.0f} MB "
                    "peak PSS; baseline: worker imports + one query"
                )
                rows.append(row)
        finally:
            db.dispose()
    return rows


def worker_once(
    db: Database, url: str, tmp: Path, sink: SinkProcess, concurrency: int
) -> MemorySampler:
    """Make DUE enrollments due, start a worker and beat, sample until they are sent."""
    if seed.make_due(db, DUE) != DUE:
        raise RuntimeError(f"fewer than {DUE} enrollments left to make due")
    sent_before = sent_count(db)
    sink.reset()
    with Cluster(tmp, url, concurrency) as cluster:
        cluster.set_clock(seed.NOW)
        worker = cluster.worker()
        cluster.beat()
        with MemorySampler(worker.pid) as sampler:
            cluster.wait_ready("worker", READY_SECONDS)
            cluster.wait_sent(db, sink, DUE, sent_before)
            time.sleep(IDLE_SECONDS)
    return sampler

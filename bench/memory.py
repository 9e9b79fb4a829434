"""Figure 3 — peak RSS of the engine while many enrollments exist: flat, not growing.

A fresh process opens the workspace and runs embedded rounds (tick → send to the sink)
with 200 enrollments due, once at 10k and once at the full size; its peak RSS comes from
wait4. The baseline is the floor: a process that imports the engine and counts the rows.
"""

from __future__ import annotations

import sys

from bench import seed
from bench.common import Options, Row, Sample, missing_module, not_measured, run_child, temp_dir
from bench.sink import SinkProcess
from engine.store.db import Database

TARGET = "< 200 MB, flat"
DUE = 200  # due per run: enough to exercise tick, render and send, small enough to be quick
ENGINE = """
import sys
from bench.seed import NOW
from engine.clock import VirtualClock
from engine.services.runner import Runner
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


def run(opts: Options) -> list[Row]:
    runs = min(opts.runs, 2)  # whole processes at full size: two runs fit the budget
    sizes = [10_000, opts.enrollments] if opts.enrollments > 10_000 else [opts.enrollments]
    missing = missing_module("engine.services.runner", "engine.services.sequences")
    why = f"{missing} is not on main yet" if missing else ""
    rows: list[Row] = []
    with temp_dir("memory") as tmp, SinkProcess() as sink:
        url = f"sqlite:///{tmp / 'kadenz.db'}"
        db = Database(url)
        db.upgrade()
        if why:
            from bench.scheduler import _bare_version

            sequence_id, version_id, step_id = _bare_version(db)
        else:
            sequence_id, version_id, step_id = seed.push_sequence(db, tmp)
        boxes = seed.add_mailboxes(db, opts.mailboxes, sink.url)
        have = 0
        for size in sizes:
            seed.seed_enrollments(
                db,
                start=have + 1,
                count=size - have,
                due=DUE if have == 0 else 0,  # later sizes: make_due already did it
                sequence_id=sequence_id,
                version_id=version_id,
                step_id=step_id,
                mailbox_ids=boxes,
            )
            have = size
            floor = Sample(
                [run_child([sys.executable, "-c", FLOOR, url]).peak_rss_mb for _ in range(runs)],
                "MB",
            )
            label = f"embedded engine peak RSS @ {size:,} enrollments"
            if why:
                rows.append(not_measured(label, why, TARGET, floor))
                continue
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
    rows.append(
        not_measured("worker peak RSS", "the benchmark does not start a Celery worker yet", TARGET)
    )
    return rows

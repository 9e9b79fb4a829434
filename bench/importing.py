"""Figure 4 — `kadenz prospects import` of a big CSV, against csv + email-validator + insert.

Both sides run as their own process on a fresh, already migrated SQLite workspace, so the
wall time includes interpreter start-up on both sides and the peak RSS is the process's own.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

from bench.common import ChildResult, Options, Row, Sample, not_measured, run_child, temp_dir
from engine.store.db import Database

TARGET_RATE = "100k rows < 30 s"
BASELINE = r"""
import csv, sys, time
from datetime import UTC, datetime
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import create_engine, text

path, url = sys.argv[1], sys.argv[2]
now = datetime.now(UTC).replace(tzinfo=None)
engine = create_engine(url)
rows, batch = 0, []
insert = text(
    "INSERT INTO prospects (email, email_key, first_name, last_name, company, title, custom,"
    " owner, score, created_at, updated_at)"
    " VALUES (:e, :k, :f, :l, :c, :t, '{}', 'anna', 0, :now, :now)"
)
with engine.begin() as conn, open(path, newline="", encoding="utf-8") as fh:
    for rec in csv.DictReader(fh):
        rows += 1
        try:
            addr = validate_email(rec["Email"], check_deliverability=False).normalized
        except EmailNotValidError:
            continue
        batch.append({"e": addr, "k": addr.lower(), "f": rec["First Name"],
                      "l": rec["Last Name"], "c": rec["Company"], "t": rec["Title"], "now": now})
        if len(batch) >= 1000:
            conn.execute(insert, batch)
            batch = []
    if batch:
        conn.execute(insert, batch)
print(rows)
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["Email", "First Name", "Last Name", "Company", "Title"])
        for i in range(rows):
            out.writerow(
                [f"Person.{i}@Company{i % 5000}.example", f"Person{i}", "Example",
                 f"Company {i % 5000}", "Head of Sales"]
            )  # fmt: skip


def fresh_workspace(root: Path, name: str) -> tuple[Path, str]:
    home = root / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    url = f"sqlite:///{home / 'kadenz.db'}"
    db = Database(url)
    db.upgrade()
    db.dispose()
    return home, url


def run(opts: Options) -> list[Row]:
    runs = min(opts.runs, 2)  # whole processes at full size: two runs fit the budget
    n = opts.import_rows
    label = f"import {n:,}-row CSV (SQLite)"
    with temp_dir("import") as tmp:
        path = tmp / "prospects.csv"
        write_csv(path, n)
        base_runs: list[ChildResult] = []
        for i in range(runs):
            _home, url = fresh_workspace(tmp, f"base{i}")
            got = run_child([sys.executable, "-c", BASELINE, str(path), url])
            if got.returncode != 0:
                raise RuntimeError(got.stderr[-2000:])
            base_runs.append(got)
        kadenz = Path(sys.executable).with_name("kadenz")
        help_run = run_child([str(kadenz), "prospects", "import", "--help"])
        if help_run.returncode != 0:
            base = _rate(base_runs, n)
            return [
                not_measured(label, _cli_failure(help_run), TARGET_RATE, base),
                not_measured("import peak RSS", "see above", "", _rss(base_runs)),
            ]
        ours_runs: list[ChildResult] = []
        for i in range(runs):
            home, url = fresh_workspace(tmp, f"ours{i}")
            got = run_child(
                [str(kadenz), "prospects", "import", str(path), "--owner", "anna"],
                env={"KADENZ_HOME": str(home), "KADENZ_DATABASE_URL": url},
                cwd=tmp,
            )
            if got.returncode != 0:
                raise RuntimeError(got.stderr[-2000:] or got.stdout[-2000:])
            ours_runs.append(got)
    ours_rate, base_rate = _rate(ours_runs, n), _rate(base_runs, n)
    seconds = n / ours_rate.median
    rate_row = Row(label, ours_rate, base_rate, TARGET_RATE, seconds * 100_000 / n < 30)
    rate_row.note = f"{seconds:.1f} s for {n:,} rows (process wall time incl. start-up)"
    rss_row = Row(
        "import peak RSS", _rss(ours_runs), _rss(base_runs), "", None, higher_is_better=False
    )
    return [rate_row, rss_row]


def _rate(runs: list[ChildResult], n: int) -> Sample:
    return Sample([n / r.seconds for r in runs], "rows/s")


def _rss(runs: list[ChildResult]) -> Sample:
    return Sample([r.peak_rss_mb for r in runs], "MB")


def _cli_failure(result: ChildResult) -> str:
    """Why `kadenz prospects import --help` failed: the CLI does not start."""
    last = (result.stderr.strip().splitlines() or ["no output"])[-1]
    return f"the `kadenz` CLI does not start here ({last[:120]})"

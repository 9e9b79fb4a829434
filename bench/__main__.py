"""`python -m bench` (`make bench`): every figure, ours next to the same-run raw limit.

python -m bench                  # the full suite (~20 minutes on 2 cores)
python -m bench --quick          # small sizes (~2 minutes)
python -m bench --only send,import --send-n 20000
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Options, Row, load_average, machine_info

FIGURES = {
    "send": "bench.send",
    "scheduler": "bench.scheduler",
    "memory": "bench.memory",
    "import": "bench.importing",
    "reports": "bench.reports",
    "classify": "bench.classify",
    "forecast": "bench.forecast",
    "replies": "bench.replies",
    "fuzz": "bench.fuzz",
}
RESULTS = Path(__file__).parent / "RESULTS.md"
GENERATED_END = "<!-- end of generated results; commentary below is kept across runs -->"


def parse(argv: list[str]) -> tuple[Options, list[str], bool]:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, about 2 minutes")
    p.add_argument("--only", default="", help=f"comma-separated subset of {','.join(FIGURES)}")
    p.add_argument("--runs", type=int, help="repetitions per measurement (median, min–max)")
    p.add_argument("--send-n", type=int, help="due first emails for the send path (issue: 20000)")
    p.add_argument("--mailboxes", type=int, help="mailboxes = SMTP connections in parallel")
    p.add_argument(
        "--worker-concurrency", type=int, help="prefork processes of the Celery worker (4)"
    )
    p.add_argument("--enrollments", type=int, help="active enrollments for scheduler/memory")
    p.add_argument("--due", type=int, help="due enrollments among them (scheduler)")
    p.add_argument("--import-rows", type=int, help="CSV rows for the import figure")
    p.add_argument("--events", type=int, help="events for the reports figure")
    p.add_argument("--no-write", action="store_true", help="do not rewrite bench/RESULTS.md")
    args = p.parse_args(argv)
    opts = Options.quick_preset() if args.quick else Options()
    for name in (
        "runs",
        "send_n",
        "mailboxes",
        "worker_concurrency",
        "enrollments",
        "due",
        "import_rows",
        "events",
    ):
        value = getattr(args, name)
        if value is not None:
            opts = replace(opts, **{name: value})
    only = [f.strip() for f in args.only.split(",") if f.strip()] or list(FIGURES)
    unknown = [f for f in only if f not in FIGURES]
    if unknown:
        p.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    return opts, only, not args.no_write


def main(argv: list[str] | None = None) -> int:
    opts, only, write = parse(sys.argv[1:] if argv is None else argv)
    # A terminated run still drops its throwaway databases and stops the sink (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    machine = machine_info()
    print(_machine_line(machine), flush=True)
    rows: list[Row] = []
    timings: dict[str, float] = {}
    for name in only:
        print(f"\n== {name} …", flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(FIGURES[name])
            got = module.run(opts)
        except Exception as exc:  # one broken figure must not hide the others
            traceback.print_exc()
            got = [Row(name, None, None, "", None, f"not measured: {type(exc).__name__}: {exc}")]
        timings[name] = time.perf_counter() - t0
        for row in got:
            print("   " + " | ".join(_cells(row)), flush=True)
        rows.extend(got)
    total = time.perf_counter() - started
    table = render_table(rows)
    print("\n" + table)
    print(f"\ntotal {total:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})")
    if write:
        write_results(table, machine, opts, only, total, timings)
        print(f"wrote {RESULTS}")
    return 0


def _cells(row: Row) -> list[str]:
    if row.ratio is None:
        ratio = "—"
    else:  # small ratios keep a decimal so that 0.3% does not print as 0%
        ratio = f"{row.ratio:.0%}" if row.ratio >= 0.1 else f"{row.ratio:.1%}"
    met = {True: "yes", False: "NO", None: "—"}[row.met]
    return [
        row.figure,
        row.ours.show() if row.ours else "—",
        row.baseline.show() if row.baseline else "—",
        ratio,
        row.target or "—",
        met,
        row.note,
    ]


def render_table(rows: list[Row]) -> str:
    head = ["figure", "ours", "baseline (raw limit, same run)", "ratio", "target", "met?", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in _cells(row)) + " |")
    return "\n".join(lines)


def _machine_line(m: dict[str, str]) -> str:
    return (
        f"machine: {m.get('cores')} cores, {m.get('memory')}, {m.get('cpu')}; load {load_average()}"
    )


def write_results(
    table: str,
    machine: dict[str, str],
    opts: Options,
    only: list[str],
    total: float,
    timings: dict[str, float],
) -> None:
    """Rewrite the generated part of RESULTS.md; keep the hand-written commentary after it."""
    commentary = ""
    if RESULTS.exists():
        old = RESULTS.read_text()
        if GENERATED_END in old:
            commentary = old.split(GENERATED_END, 1)[1]
    kind = "quick" if opts.quick else "full"
    sizes = (
        f"send_n={opts.send_n:,}, mailboxes={opts.mailboxes}, "
        f"worker_concurrency={opts.worker_concurrency}, enrollments={opts.enrollments:,}, "
        f"due={opts.due:,}, tick_limit={opts.tick_limit:,}, import_rows={opts.import_rows:,}, "
        f"events={opts.events:,}, runs={opts.runs}"
    )
    versions = ", ".join(
        f"{k} {v}" for k, v in machine.items() if k not in ("cores", "memory", "cpu")
    )
    now = datetime.now(UTC).strftime(
        "%Y-%m-%d %H:%M UTC"
    )  # wall time of the report, not engine time
    text = (
        "# Benchmark results\n\n"
        f"Written by `python -m bench` ({kind} run, figures: {', '.join(only)}) on {now}, "
        f"in {total:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}).\n\n"
        f"- machine: {machine.get('cores')} cores, {machine.get('memory')}, {machine.get('cpu')}; "
        f"load average at the end {load_average()} (a shared machine: read the ratios)\n"
        f"- versions: {versions}\n"
        f"- sizes: {sizes}\n\n"
        "Each cell is the median of the runs with (min–max). The ratio is ours ÷ baseline for "
        "rates, baseline ÷ ours for times and memory: 100% means as fast as the raw limit.\n\n"
        f"{table}\n\n{GENERATED_END}"
    )
    RESULTS.write_text(text + (commentary or "\n"))


if __name__ == "__main__":
    sys.exit(main())

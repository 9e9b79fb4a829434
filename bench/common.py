"""The benchmark harness: repeated timings, result rows, machine facts, throwaway databases.

Every figure reports OUR throughput next to the raw limit of the same machine measured in
the same run, so the ratio survives a noisy shared machine (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def shared_corpus() -> Path:
    """`shared/corpus` beside the checkout (or a parent of it); KADENZ_CORPUS overrides."""
    if os.environ.get("KADENZ_CORPUS"):
        return Path(os.environ["KADENZ_CORPUS"])
    for parent in ROOT.parents:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared" / "corpus"
    return ROOT.parent / "shared" / "corpus"


ADMIN_URL = os.environ.get(
    "KADENZ_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("KADENZ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


class NotMeasured(Exception):
    """Raised by a figure that cannot be measured here; the message says why."""


@dataclass
class Options:
    quick: bool = False
    runs: int = 3
    send_n: int = 20_000  # the figure: ≈ 2.5 min of the run on a quiet machine
    mailboxes: int = 4
    worker_concurrency: int = 4  # prefork processes of the Celery worker (docker-compose: 4)
    enrollments: int = 1_000_000
    due: int = 100_000
    tick_limit: int = 1000
    import_rows: int = 100_000
    events: int = 10_000_000
    classify_limit: int | None = None

    @classmethod
    def quick_preset(cls) -> Options:
        return cls(
            quick=True,
            runs=3,
            send_n=1_000,  # 100 measured mostly noise and beat's one-second nudges
            enrollments=100_000,
            due=10_000,
            tick_limit=300,
            import_rows=10_000,
            events=1_000_000,
        )


@dataclass
class Sample:
    """Repeated measurements of one quantity (a rate or a duration)."""

    values: list[float]
    unit: str  # "msg/s", "rows/s", "ms", "MB", "s"

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self) -> str:
        lo, hi = _fmt(min(self.values)), _fmt(max(self.values))
        if lo == hi:  # one run, or runs equal to the digits shown
            return f"{_fmt(self.median)} {self.unit}"
        return f"{_fmt(self.median)} {self.unit} ({lo}–{hi})"


def _fmt(x: float) -> str:
    if x >= 99.95:  # what rounds to 100.0 prints as 100, like 100 itself
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


@dataclass
class Row:
    """One line of the results table."""

    figure: str
    ours: Sample | None
    baseline: Sample | None
    target: str
    met: bool | None = None  # None: no verdict (not measured, or no target for this line)
    note: str = ""  # "not measured: …", sizes, what the baseline is
    higher_is_better: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.baseline is None or not self.baseline.median:
            return None
        if self.higher_is_better:
            return self.ours.median / self.baseline.median
        return self.baseline.median / self.ours.median if self.ours.median else None


def not_measured(figure: str, why: str, target: str = "", baseline: Sample | None = None) -> Row:
    return Row(figure, None, baseline, target, None, f"not measured: {why}")


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rates(fn: Callable[[], int], runs: int, unit: str) -> Sample:
    """Run `fn` (which returns how many items it processed) `runs` times; items per second."""
    values = []
    for _ in range(runs):
        start = time.perf_counter()
        n = fn()
        elapsed = time.perf_counter() - start
        values.append(n / elapsed if elapsed > 0 else 0.0)
    return Sample(values, unit)


def durations_ms(fn: Callable[[], object], runs: int) -> Sample:
    return Sample([timed(fn) * 1000 for _ in range(runs)], "ms")


# --- processes and memory -----------------------------------------------------------------


@dataclass
class ChildResult:
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    returncode: int


def proc_kib(pid: int, key: str, file: str = "status") -> int:
    """A `key:  N kB` line of /proc/<pid>/<file> (status, smaps_rollup); 0 when gone."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    return 0


class PeakWatch:
    """A child's peak RSS, read from its own /proc VmHWM every few milliseconds.

    Not wait4's ru_maxrss: Linux carries the parent's RSS at fork/exec into the child's
    ru_maxrss, so a 10 MB child of a 136 MB benchmark process would report 136 MB. VmHWM
    belongs to the child's own address space. A peak in its last few ms could be missed.
    """

    def __init__(self, pid: int, every: float = 0.005) -> None:
        self.pid, self.every, self.peak_kib = pid, every, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            self.peak_kib = max(self.peak_kib, proc_kib(self.pid, "VmHWM:"))
            self._done.wait(self.every)

    def stop(self) -> float:
        """Stop watching (call before reaping the child); the peak in MB."""
        self._done.set()
        self._thread.join()
        return self.peak_kib / 1024


def run_child(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> ChildResult:
    """Run a process to completion; its wall time and peak RSS (VmHWM, see PeakWatch)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: IO[bytes]) -> None:
        chunks[name] = stream.read()

    watch = PeakWatch(proc.pid)  # Popen returns after exec: this is the child's own memory
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(target=drain, args=("out", proc.stdout)),
        threading.Thread(target=drain, args=("err", proc.stderr)),
    ]
    for reader in readers:
        reader.start()
    # Wait for the exit without reaping (WNOWAIT): the pid cannot be reused meanwhile, so
    # the watcher never reads another process's /proc entry.
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    peak_mb = watch.stop()
    proc.wait()
    for reader in readers:
        reader.join()
    return ChildResult(
        seconds=time.perf_counter() - start,
        peak_rss_mb=peak_mb,
        stdout=chunks["out"].decode(errors="replace"),
        stderr=chunks["err"].decode(errors="replace"),
        returncode=proc.returncode,
    )


def python_child(code: str, *args: str, env: dict[str, str] | None = None) -> ChildResult:
    """Run `code` in a fresh interpreter of this venv (so RSS is that process's alone)."""
    result = run_child([sys.executable, "-c", code, *args], env=env, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"child failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


# --- throwaway databases and directories --------------------------------------------------


def postgres_available() -> bool:
    try:
        engine = create_engine(ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def throwaway_postgres(tag: str) -> Iterator[str]:
    """CREATE a fresh database for one figure, yield its URL, DROP it afterwards."""
    name = f"kadenz_bench_{tag}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def temp_dir(tag: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"kadenz-bench-{tag}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def psycopg_url(sqlalchemy_url: str) -> str:
    """The libpq form of a SQLAlchemy URL (for raw psycopg connections)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


# --- machine facts -------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    info = {
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    for pkg in ("sqlalchemy", "psycopg", "aiosmtplib", "aiosmtpd", "celery", "jinja2"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            info[pkg] = metadata.version(pkg)
    import sqlite3

    info["sqlite"] = sqlite3.sqlite_version
    with contextlib.suppress(Exception):
        engine = create_engine(ADMIN_URL)
        with engine.connect() as conn:
            info["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
    with contextlib.suppress(Exception):
        import redis

        info["redis"] = str(redis.Redis.from_url(REDIS_URL).info()["redis_version"])
    return info


def _memory() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"

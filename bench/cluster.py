"""Celery worker and beat processes for the benchmarks, run the way production runs them.

`celery -A workers.app worker -Q kadenz,kadenz.send,kadenz.poll` and `celery … beat`
(docs/operations.md), each in its own process group, on the throwaway PostgreSQL database
of a figure and a Redis database of the benchmark's own. Every process reads one shared
clock from a file (workers.runtime.OffsetClock), so the benchmark can hold time still while
the workers start and then let every due email become due at one instant.

Leaving the context stops every process group (SIGTERM, then SIGKILL) and deletes the
Redis keys it wrote, also on an error or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import redis
from sqlalchemy import func, select

from bench.common import ROOT, NotMeasured, proc_kib
from bench.sink import SinkProcess
from engine.core.states import EnrollmentState, MessageState
from engine.store.db import Database
from engine.store.models import Enrollment, OutboundMessage

# The broker's queue names are fixed (workers/beat.py), so the benchmark needs a Redis
# database no one else consumes from: the tests use 1–13 and 15, production 0 and 1.
BROKER_URL = os.environ.get("KADENZ_BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
QUEUE_KEYS = ("kadenz", "kadenz.send", "kadenz.poll", "_kombu.*", "unacked*")
OWNER_KEY = "kadenz-bench:broker-owner"  # two benchmark runs must not share the queues
STALL_SECONDS = 120  # no new message at the sink for this long: the run is hung, give up


@dataclass
class Cluster:
    tmp: Path
    database_url: str
    concurrency: int
    prefix: str = field(default_factory=lambda: f"kadenz-bench-{uuid.uuid4().hex[:8]}:")
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __enter__(self) -> Cluster:
        client = redis.Redis.from_url(BROKER_URL)
        try:
            if not client.set(OWNER_KEY, os.getpid(), nx=True):
                owner = int(client.get(OWNER_KEY) or 0)
                if _running(owner):
                    raise NotMeasured(
                        f"Redis {BROKER_URL} is in use by another benchmark (pid {owner}); "
                        "set KADENZ_BENCH_BROKER_URL to a free Redis database"
                    )
                client.set(OWNER_KEY, os.getpid())  # left behind by a killed run
        finally:
            client.close()
        self._delete_keys(QUEUE_KEYS)  # stale nudges of an earlier, killed run
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self._delete_keys((f"{self.prefix}*", *QUEUE_KEYS, OWNER_KEY))

    # --- processes ---------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KADENZ_")}
        env.update(
            {
                "KADENZ_HOME": str(self.tmp / "home"),
                "KADENZ_DATABASE_URL": self.database_url,
                "KADENZ_REDIS_URL": BROKER_URL,
                "KADENZ_BROKER_URL": BROKER_URL,
                "KADENZ_REDIS_PREFIX": self.prefix,
                "KADENZ_SECRET_KEY": "bench",
                # Beat nudges every second (production: 5 s), so a run of a few seconds is
                # not mostly waiting for the next nudge.
                "KADENZ_TICK_SECONDS": "1",
                "KADENZ_CLOCK_OFFSET_FILE": str(self.offset_file),
            }
        )
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.app", *args],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopping it takes the pool too
            )
        self.procs[name] = proc
        return proc

    def worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        return self._spawn(
            name,
            [
                "worker",
                "-n",
                f"{name}-{self.prefix.strip(':')}@%h",
                "--concurrency",
                str(self.concurrency),
                "-Q",
                "kadenz,kadenz.send,kadenz.poll",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )

    def beat(self, name: str = "beat") -> subprocess.Popen[bytes]:
        schedule = self.tmp / f"{name}-schedule"
        return self._spawn(name, ["beat", "-s", str(schedule), "--max-interval", "1"])

    def wait_ready(self, name: str, timeout: float) -> None:
        """Until the worker logs that it consumes (its pool is up)."""
        log = self.tmp / f"{name}.log"
        deadline = time.monotonic() + timeout
        while " ready." not in log.read_text(errors="replace"):
            if self.procs[name].poll() is not None:
                raise NotMeasured(f"the {name} exited at start: {self.log_tail(name)}")
            if time.monotonic() > deadline:
                raise NotMeasured(f"the {name} was not ready after {timeout:.0f} s")
            time.sleep(0.1)

    def wait_sent(
        self,
        db: Database,
        sink: SinkProcess,
        n: int,
        sent_before: int = 0,
        moved_on_before: datetime | None = None,
    ) -> None:
        """Until the sink has `n` messages and the database records `n` more `sent` (and,
        with `moved_on_before`, no live enrollment has a step due before that instant);
        NotMeasured when a process dies or nothing arrives for STALL_SECONDS."""
        last, changed = -1, time.monotonic()
        while True:
            received = sink.count()
            if (
                received >= n
                and sent_count(db) >= sent_before + n
                and (moved_on_before is None or due_count(db, moved_on_before) == 0)
            ):
                return
            if received != last:
                last, changed = received, time.monotonic()
            elif time.monotonic() - changed > STALL_SECONDS:
                raise NotMeasured(
                    f"stalled: {received:,}/{n:,} at the sink, nothing new for "
                    f"{STALL_SECONDS} s; messages {message_states(db)}; "
                    f"worker: {self.last_problem('worker')}"
                )
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise NotMeasured(f"the {name} exited: {self.log_tail(name)}")
            time.sleep(0.05)

    def last_problem(self, name: str) -> str:
        """The worker's last WARNING/ERROR line: usually why a run stalls."""
        lines = (self.tmp / f"{name}.log").read_text(errors="replace").splitlines()
        problems = [line for line in lines if "WARNING/" in line or "ERROR/" in line]
        return problems[-1][-300:] if problems else "no warning or error logged"

    def log_tail(self, name: str, chars: int = 600) -> str:
        text = (self.tmp / f"{name}.log").read_text(errors="replace")
        return " ".join(text[-chars:].split())

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            # Pool children may outlive their parent for a moment: end the whole group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        self.procs.clear()

    # --- the shared clock --------------------------------------------------------------

    @property
    def offset_file(self) -> Path:
        return self.tmp / "clock-offset"

    def set_clock(self, at: datetime) -> None:
        """Every process's clock reads `at` now and runs on from there."""
        offset = (at - datetime.now(UTC)).total_seconds()
        aside = self.offset_file.with_suffix(".new")  # a reader never sees a half-written file
        aside.write_text(f"{offset}\n")
        aside.replace(self.offset_file)

    def nudge(self, *tasks: str) -> None:
        """Enqueue tasks by name now, as beat would on its next beat."""
        from engine.settings import load_settings
        from workers.app import create_app  # Celery only once a cluster is in use

        app = create_app(load_settings(redis_url=BROKER_URL, broker_url=BROKER_URL))
        try:
            for task in tasks:
                app.send_task(task)
        finally:
            app.close()

    def _delete_keys(self, patterns: tuple[str, ...]) -> None:
        client = redis.Redis.from_url(BROKER_URL)
        try:
            for pattern in patterns:
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()


def sent_count(db: Database) -> int:
    with db.session() as session:
        stmt = select(func.count()).where(OutboundMessage.state == MessageState.SENT)
        return int(session.scalar(stmt) or 0)


def due_count(db: Database, before: datetime) -> int:
    """Active enrollments whose next step is due before `before` (NULL: awaiting a send)."""
    with db.session() as session:
        stmt = select(func.count()).where(
            Enrollment.state == EnrollmentState.ACTIVE, Enrollment.next_run_at < before
        )
        return int(session.scalar(stmt) or 0)


def message_states(db: Database) -> dict[str, int]:
    with db.session() as session:
        stmt = select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state)
        return {str(state): int(n) for state, n in session.execute(stmt).all()}


def _running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- memory of a process group -------------------------------------------------------------


def group_pids(pgid: int) -> list[int]:
    """Every live process of a process group (the worker and its pool children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # fields after "(comm)": state, ppid, pgrp, …
        if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
            pids.append(int(entry.name))
    return pids


class MemorySampler:
    """Samples a process group every `every` seconds: each process's peak RSS (VmHWM, kept
    for processes that exit meanwhile) and the group's total PSS (shared pages split
    between the processes that share them, so the sum is not inflated by fork's
    copy-on-write sharing)."""

    def __init__(self, pgid: int, every: float = 0.5) -> None:
        self.pgid, self.every = pgid, every
        self.peak_kib: dict[int, int] = {}
        self.peak_pss_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()  # the last word: peaks up to this moment

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        pss = 0
        for pid in group_pids(self.pgid):
            hwm = proc_kib(pid, "VmHWM:")
            if hwm:
                self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), hwm)
            pss += proc_kib(pid, "Pss:", "smaps_rollup")
        self.peak_pss_kib = max(self.peak_pss_kib, pss)

    @property
    def largest_mb(self) -> float:
        return max(self.peak_kib.values(), default=0) / 1024

    @property
    def summed_mb(self) -> float:
        return sum(self.peak_kib.values()) / 1024

"""A real Kadenz cluster for tests: `celery worker` and `celery beat` processes on PostgreSQL
and Redis, an aiosmtpd sink, bulk-seeded enrollments, and a clock every process shares.

The processes read the shared clock's offset from a file (workers.runtime.OffsetClock), so a
test moves every process's time at once: first the tick plans each email at a spread-out
slot later "today", then the test moves time a day ahead and every planned email is due.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, insert, select

from engine.clock import SystemClock
from engine.core.states import EnrollmentState, MessageState
from engine.sequence_language.loader import spec_from_json
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    Mailbox,
    OutboundMessage,
    Prospect,
    Sequence,
    SequenceVersion,
)
from tests.support.smtp_server import SmtpSink

ROOT = Path(__file__).resolve().parents[3]

SPEC: dict[str, Any] = {
    "key": "cluster",
    "name": "Cluster test",
    "mailboxes": [],
    "schedule": {"timezone": "UTC", "window": "Mon-Sun 00:00-24:00", "holidays": None},
    "stop_on": ["reply", "bounce", "unsubscribe"],
    "steps": [
        {"id": "intro", "type": "email", "subject": "Hi {{ first_name }}", "template": "i.j2"},
    ],
}
TEMPLATES = {"i.j2": "Hi {{ first_name }},\n\na short note for {{ company }}.\n"}


def wait_until(what: str, check: Callable[[], bool], timeout: float, every: float = 0.25) -> None:
    """Poll a condition on real state (the database, the sink) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass
class Cluster:
    tmp: Path
    database_url: str
    redis_url: str  # broker, limiter and locks: a Redis database this test owns
    prefix: str
    env_extra: dict[str, str] = field(default_factory=dict)
    offset: float = 0.0
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def offset_file(self) -> Path:
        return self.tmp / "clock-offset"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KADENZ_")}
        env.update(
            {
                "KADENZ_HOME": str(self.tmp / "home"),
                "KADENZ_DATABASE_URL": self.database_url,
                "KADENZ_REDIS_URL": self.redis_url,
                "KADENZ_BROKER_URL": self.redis_url,
                "KADENZ_REDIS_PREFIX": self.prefix,
                "KADENZ_SECRET_KEY": "cluster-test-secret",
                "KADENZ_TICK_SECONDS": "1",
                "KADENZ_SEND_BATCH": "25",
                "KADENZ_CLOCK_OFFSET_FILE": str(self.offset_file),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.env_extra)
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        """`celery -A workers.app ARGS…`, or `kadenz ARGS…` when args start with "kadenz"."""
        if args[0] == "kadenz":
            command = [str(Path(sys.executable).parent / "kadenz"), *args[1:]]
        else:
            command = [sys.executable, "-m", "celery", "-A", "workers.app", *args]
        with (self.tmp / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL takes its children too
            )
        self.procs[name] = proc
        return proc

    def worker(self, name: str, concurrency: int = 2, cli: bool = False) -> subprocess.Popen[bytes]:
        if cli:  # the documented `kadenz worker` rather than `celery … worker`
            return self._spawn(
                name,
                ["kadenz", "worker", "--concurrency", str(concurrency), "--name", f"{name}@%h"],
            )
        return self._spawn(
            name,
            [
                "worker",
                "-n",
                f"{name}@%h",
                "--concurrency",
                str(concurrency),
                "-Q",
                "kadenz,kadenz.send,kadenz.poll",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def beat(self, name: str, cli: bool = False) -> subprocess.Popen[bytes]:
        schedule = self.tmp / f"{name}-schedule"
        if cli:
            return self._spawn(name, ["kadenz", "beat", "--schedule-file", str(schedule)])
        return self._spawn(
            name, ["beat", "-s", str(schedule), "--max-interval", "1", "--loglevel", "INFO"]
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs[name]
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for name in list(self.procs):
            proc = self.procs.pop(name)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
            # Pool children can outlive their parent for a moment and still write to the
            # database: end the whole group, so what a test reads afterwards stands still.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)

    def move_time(self, seconds: float) -> None:
        self.offset = seconds
        # Write aside, then rename: a worker reading mid-write would see an empty file and
        # fall back to offset 0, a jump back in time no real clock makes.
        aside = self.offset_file.with_suffix(".new")
        aside.write_text(f"{seconds}\n")
        aside.replace(self.offset_file)

    def settle(self, db: Database, timeout: float) -> None:
        """Wait until no message is planned or sending; whenever all that is left waits for a
        later time (a retry's backoff), move every process's clock an hour on."""

        def check() -> bool:
            if settled(db):
                return True
            if self.waiting_for_later(db):
                self.move_time(self.offset + 3600)
            return False

        wait_until(f"every message to be settled (now {message_states(db)})", check, timeout, 1)

    def waiting_for_later(self, db: Database) -> bool:
        """Nothing in flight and nothing due on the processes' clock: what is left (if
        anything) waits for a later time, a retry's backoff or a cap."""
        with db.session() as s:
            in_flight = s.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.state == MessageState.SENDING)
            )
            due = s.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(
                    OutboundMessage.state == MessageState.PLANNED,
                    OutboundMessage.not_before <= now_utc() + timedelta(seconds=self.offset),
                )
            )
        return not in_flight and not due

    def holder_of(self, client: tuple[str, int]) -> str | None:
        """The name of the process (worker, with its pool) whose socket is `client`'s end
        of a TCP connection: the sink says which client is inside an SMTP transaction."""
        inode = _inode_of_local_port(client[1])
        if inode is None:
            return None
        for name, proc in self.procs.items():
            for pid in _group_pids(proc.pid):
                if inode in _socket_inodes(pid):
                    return name
        return None

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp.glob("*.log"))
        )

    def delete_keys(self) -> None:
        client = redis.Redis.from_url(self.redis_url)
        try:
            patterns = [f"{self.prefix}*", "kadenz*", "_kombu.*", "unacked*"]
            for pattern in patterns:
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()


@dataclass
class Seeded:
    mailbox_ids: list[int]
    enrollment_ids: list[int]


def seed(
    db: Database,
    smtp_url: str,
    *,
    mailboxes: int,
    enrollments: int,
    at: datetime,
    **mailbox_fields: Any,
) -> Seeded:
    """Bulk-insert mailboxes, one pushed sequence version, prospects and due enrollments."""
    with db.session() as s:
        mailbox_ids = []
        for m in range(mailboxes):
            box = Mailbox(
                name=f"box{m}",
                address=f"box{m}@acme.example",
                display_name=f"Box {m}",
                smtp_url=smtp_url,
                timezone="UTC",
                daily_cap=mailbox_fields.get("daily_cap", 100_000),
                hourly_cap=mailbox_fields.get("hourly_cap"),
                created_at=at,
            )
            s.add(box)
            s.flush()
            mailbox_ids.append(box.id)
        sequence = Sequence(key=SPEC["key"], name=SPEC["name"], created_at=at)
        s.add(sequence)
        s.flush()
        version = SequenceVersion(
            sequence_id=sequence.id,
            version=1,
            content_hash="cluster",
            source="# cluster test",
            # stored as `sequences.push` stores it: validated by the spec model
            spec=spec_from_json(
                {**SPEC, "mailboxes": [f"box{m}" for m in range(mailboxes)]}
            ).model_dump(mode="json"),
            templates=TEMPLATES,
            created_at=at,
        )
        s.add(version)
        s.flush()
        sequence.current_version_id = version.id
        s.execute(
            insert(Prospect),
            [
                {
                    "email": f"p{i}@beta{i % 7}.example",
                    "email_key": f"p{i}@beta{i % 7}.example",
                    "first_name": f"P{i}",
                    "company": f"Company {i}",
                    "timezone": "UTC",
                    "custom": {},
                    "created_at": at,
                    "updated_at": at,
                }
                for i in range(enrollments)
            ],
        )
        prospect_ids = list(s.scalars(select(Prospect.id).order_by(Prospect.id)).all())
        s.execute(
            insert(Enrollment),
            [
                {
                    "prospect_id": pid,
                    "sequence_id": sequence.id,
                    "version_id": version.id,
                    "mailbox_id": mailbox_ids[i % mailboxes],
                    "state": EnrollmentState.ACTIVE,
                    "step_index": 0,
                    "step_id": "intro",
                    "next_run_at": at - timedelta(minutes=1),
                    "step_started_at": at,
                    "variants": {},
                    "created_at": at,
                    "updated_at": at,
                }
                for i, pid in enumerate(prospect_ids)
            ],
        )
        enrollment_ids = list(s.scalars(select(Enrollment.id).order_by(Enrollment.id)).all())
    return Seeded(mailbox_ids, enrollment_ids)


def message_states(db: Database) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(
            select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state)
        ).all()
    return {state: n for state, n in rows}


def count_messages(db: Database) -> int:
    return sum(message_states(db).values())


def enrollment_states(db: Database) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(Enrollment.state, func.count()).group_by(Enrollment.state)).all()
    return {state: n for state, n in rows}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def received_ids(sink: SmtpSink) -> list[str]:
    """Message-IDs of every message the SMTP server accepted, in arrival order."""
    return [(m.message_id or "").strip("<>") for m in sink.messages]


def now_utc() -> datetime:
    return SystemClock().now()  # the workers run on wall-clock time (plus the shared offset)


def settled(db: Database) -> bool:
    """Nothing left in flight: no planned or sending message remains."""
    states = message_states(db)
    return not states.get(MessageState.PLANNED) and not states.get(MessageState.SENDING)


def _group_pids(pgid: int) -> list[int]:
    """Every live process of a process group (a worker and its pool children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:  # after "(comm)": state ppid pgrp
                pids.append(int(entry.name))
    return pids


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _inode_of_local_port(port: int) -> int | None:
    """The socket inode of the TCP endpoint bound to local `port` (/proc/net/tcp{,6})."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] != "0":
                return int(fields[9])
    return None

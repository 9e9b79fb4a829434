"""Figure 7 — replies seen in seconds: a reply APPENDed to a real Dovecot mailbox, until its
enrollment is stopped, by the embedded runner (`kadenz run`) with IMAP IDLE and with polling.

Each sample: a prospect is enrolled and sent its first email, the reply is APPENDed to the
mailbox's folder (t0 once the server confirmed the APPEND), and the figure is the time
until the enrollment's row says `stopped` (read every 20 ms). The IDLE runner has no
interval poll after its first (KADENZ_POLL_SECONDS=3600), so only the IDLE ring can read
the reply. Baselines measured in the same run: for IDLE, a bare IDLE connection's latency
(APPEND → the server's EXISTS, no engine); for polling, the interval itself, the bound a
polling reply waits at most (plus one round).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Options, Row, Sample, not_measured, temp_dir

TARGET_IDLE = "< 5 s"
POLL_SECONDS = 5.0  # the polling runner's interval (KADENZ_POLL_SECONDS; default 60)
TICK_SECONDS = 0.5
WAIT_LIMIT = 120.0  # give up on a sample after this long (reported as not measured)
PASSWORD_ENV = "KADENZ_BENCH_IMAP_PASSWORD"


def run(opts: Options) -> list[Row]:
    try:
        from tests.support.imap_server import Dovecot, dovecot_available
    except ImportError:
        return [not_measured("reply → stop", "run from the checkout (tests.support)", TARGET_IDLE)]
    if not dovecot_available():
        return [not_measured("reply → stop", "Dovecot is not installed", TARGET_IDLE)]
    with temp_dir("replies") as root, Dovecot(root / "dovecot") as dovecot:
        raw = _raw_idle(dovecot, opts.runs)
        idle = _through_runner(dovecot, root, opts.runs, idle=True)
        polled = _through_runner(dovecot, root, opts.runs, idle=False)
    rows = [
        Row(
            "reply → enrollment stopped, IMAP IDLE (kadenz run, Dovecot)",
            idle,
            raw,
            TARGET_IDLE,
            max(idle.values) < 5.0,
            note="baseline: a bare IDLE connection's APPEND → EXISTS",
            higher_is_better=False,
        ),
        Row(
            f"reply → enrollment stopped, polling every {POLL_SECONDS:g} s (IDLE off)",
            polled,
            Sample([POLL_SECONDS], "s"),
            f"≤ interval + 1 s ({POLL_SECONDS + 1:g} s)",
            max(polled.values) <= POLL_SECONDS + 1.0,
            note="baseline: the poll interval (KADENZ_POLL_SECONDS); default 60 s",
            higher_is_better=False,
        ),
    ]
    return rows


def _raw_idle(dovecot: object, runs: int) -> Sample:
    """APPEND → the server's EXISTS on a bare IDLE connection (our Doorbell, no database)."""
    from engine.mail.imap_idle import Doorbell
    from engine.mail.urls import parse_imap_url
    from tests.support.imap_server import Dovecot

    assert isinstance(dovecot, Dovecot)
    folder = "RawIdle"
    dovecot.append(folder, _note(0))  # creates the folder
    values = []
    for i in range(runs):
        bell = Doorbell(parse_imap_url(dovecot.url), dovecot.password, folder)
        assert bell.open()
        got: list[float] = []
        waiter = threading.Thread(target=_rang_at, args=(bell, got))
        waiter.start()
        time.sleep(0.3)  # let IDLE begin: the APPEND must land while it listens
        dovecot.append(folder, _note(i + 1))
        t0 = time.perf_counter()
        waiter.join(WAIT_LIMIT)
        bell.close()
        if got and got[0] > 0:
            values.append(got[0] - t0)
    return Sample(values or [float("nan")], "s")


def _rang_at(bell: object, got: list[float]) -> None:
    from engine.mail.imap_idle import Doorbell

    assert isinstance(bell, Doorbell)
    got.append(time.perf_counter() if bell.wait(WAIT_LIMIT) else -1.0)


def _note(i: int) -> bytes:
    head = f"From: a@b.example\r\nSubject: note {i}\r\nMessage-ID: <n{i}@b.example>\r\n"
    return (head + "\r\nx\r\n").encode()


def _through_runner(dovecot: object, root: Path, runs: int, *, idle: bool) -> Sample:
    import os

    from engine.clock import VirtualClock
    from engine.embedded.runner import Runner
    from engine.settings import Settings
    from engine.store.db import Database
    from engine.store.models import Enrollment, Mailbox
    from tests.support.imap_server import Dovecot
    from tests.support.inbound_world import enroll_and_send, german_reply, make_world

    assert isinstance(dovecot, Dovecot)
    mode = "idle" if idle else "poll"
    home = root / mode
    home.mkdir()
    db = Database(f"sqlite:///{home / 'kadenz.db'}")
    db.upgrade()
    clock = VirtualClock(datetime(2026, 3, 2, 8, tzinfo=UTC))
    world = make_world(db, clock.now())
    folder = f"Replies{mode.title()}"
    dovecot.append(folder, _note(100))  # creates the folder; not a reply to anything
    with db.session() as s:
        box = s.get(Mailbox, world.mailbox_id)
        assert box is not None
        box.imap_url, box.password_env, box.imap_folders = dovecot.url, PASSWORD_ENV, [folder]
    os.environ[PASSWORD_ENV] = dovecot.password
    settings = Settings(
        home=home,
        database_url=db.url,
        secret_key="bench",
        idle=idle,
        tick_seconds=TICK_SECONDS,
        poll_seconds=3600.0 if idle else POLL_SECONDS,
    )
    runner = Runner(db, clock, settings)
    ready = threading.Event()
    original = runner.ring

    def ring(mailbox_id: int) -> None:
        ready.set()
        original(mailbox_id)

    runner.ring = ring  # type: ignore[method-assign]
    if not idle:
        ready.set()
    thread = threading.Thread(target=runner.run_forever, daemon=True)
    thread.start()
    values: list[float] = []
    try:
        ready.wait(WAIT_LIMIT)
        time.sleep(2 * TICK_SECONDS)  # the first rounds (and their poll) are done
        for i in range(runs):
            person = enroll_and_send(
                db, world, clock.now(), f"p{i}@{mode}.example", first_name=f"P{i}"
            )
            if not idle:  # a reply lands at any moment of the poll interval
                time.sleep((i + 0.5) * POLL_SECONDS / runs % POLL_SECONDS)
            dovecot.append(folder, german_reply(person, at=clock.now()))
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < WAIT_LIMIT:
                with db.session() as s:
                    row = s.get(Enrollment, person.enrollment_id)
                    if row is not None and row.state == "stopped":
                        values.append(time.perf_counter() - t0)
                        break
                time.sleep(0.02)
    finally:
        runner.stop.set()
        thread.join(30)
        db.dispose()
    return Sample(values or [float("nan")], "s")

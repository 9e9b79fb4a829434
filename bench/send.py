"""Figure 1 — the send path end to end, against bare aiosmtplib to the same sink.

Ours: N enrollments due for their first email, then Runner rounds (tick → render → MIME →
claim → SMTP → state committed) until all N are sent and every enrollment has moved on to
its next step (the wait after the email, which the tick runs once the email is sent).
Baseline: the same N messages, pre-built, pushed by bare aiosmtplib with the same number of
reused connections (one per mailbox) to the same sink. The sink runs in its own process
(bench/sink.py).

Celery: the same N due first emails in a fresh PostgreSQL database, worked off by a real
`celery worker` (prefork, `--worker-concurrency` processes) and `celery beat` — the product's
tasks (tick, dispatch_sends, send_mailboxes) and its dispatch through Redis locks — timed from
the instant the workers' shared clock makes them due until every one is `sent` in the
database and every enrollment has moved on (bench/cluster.py). Both rows do the same work:
the workers run the wait steps while they still send, so a row that stopped at the last
send would leave the embedded path that work undone.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import aiosmtplib

from bench import seed
from bench.cluster import Cluster
from bench.common import (
    NotMeasured,
    Options,
    Row,
    Sample,
    not_measured,
    postgres_available,
    temp_dir,
    throwaway_postgres,
)
from bench.sink import SinkProcess
from engine.mail.compose import OutgoingEmail, build_mime, new_message_id
from engine.store.db import Database

TARGET = "≥ 50% of raw aiosmtplib"


def prebuilt(n: int) -> list[tuple[str, str, bytes]]:
    """N complete messages like the ones the engine sends (same composer, similar body)."""
    out = []
    for i in range(n):
        to = f"person{i}@company{i % 5000}.example"
        email = OutgoingEmail(
            from_address="bench0@acme.example",
            from_name="Bench 0",
            to_address=to,
            to_name=f"Person{i} Example",
            subject=f"Quick question, Person{i}",
            text=seed.INTRO.replace("{{ first_name }}", f"Person{i}").replace(
                "{{ company }}", f"Company {i % 5000}"
            ),
            html=None,
            message_id=new_message_id("acme.example"),
            unsubscribe_url=f"https://kadenz.example/u/{i:032x}",
            date=seed.NOW,
        )
        out.append(("bench0@acme.example", to, build_mime(email)))
    return out


async def _raw_send(port: int, messages: list[tuple[str, str, bytes]], connections: int) -> int:
    async def one(batch: list[tuple[str, str, bytes]]) -> int:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        for sender, recipient, data in batch:
            await smtp.sendmail(sender, [recipient], data)
        await smtp.quit()
        return len(batch)

    batches = [messages[i::connections] for i in range(connections)]
    return sum(await asyncio.gather(*(one(b) for b in batches if b)))


def raw_send(port: int, messages: list[tuple[str, str, bytes]], connections: int) -> int:
    return asyncio.run(_raw_send(port, messages, connections))


def embedded_once(sink: SinkProcess, n: int, mailboxes: int) -> float:
    """One full embedded run on a fresh SQLite workspace; messages per second."""
    from engine.clock import VirtualClock
    from engine.embedded.runner import Runner
    from engine.settings import load_settings
    from engine.store.db import Database

    with temp_dir("send") as tmp:
        url = f"sqlite:///{tmp / 'kadenz.db'}"
        db = Database(url)
        db.upgrade()
        seed.workspace(db, tmp, mailboxes, sink.url).enroll_up_to(n, due=n)
        settings = load_settings(home=tmp / "home", database_url=url, secret_key="bench")
        runner = Runner(db, VirtualClock(seed.NOW), settings)
        sink.reset()
        sent = 0
        start = time.perf_counter()
        while True:  # until all are sent and the tick finds no step due (module docstring)
            report = runner.round()
            if report.send.sent == 0 and report.tick.executed == 0:
                break
            sent += report.send.sent
        elapsed = time.perf_counter() - start
        db.dispose()
    received = sink.count()
    if sent != n or received != n:
        raise RuntimeError(f"embedded run sent {sent}, sink received {received}, expected {n}")
    return n / elapsed


def run(opts: Options) -> list[Row]:
    n, conns = opts.send_n, opts.mailboxes
    messages = prebuilt(n)
    rows: list[Row] = []
    with SinkProcess() as sink:
        raw_send(sink.port, messages[: min(n, 200)], conns)  # warm up both processes
        base_values = []
        for _ in range(opts.runs):
            sink.reset()
            start = time.perf_counter()
            sent = raw_send(sink.port, messages, conns)
            base_values.append(sent / (time.perf_counter() - start))
            if sink.count() != n:
                raise RuntimeError("the sink did not receive every raw message")
        base = Sample(base_values, "msg/s")
        label = f"send path, embedded SQLite ({n:,} msgs, {conns} conns)"
        ours = Sample([embedded_once(sink, n, conns) for _ in range(opts.runs)], "msg/s")
        row = Row(label, ours, base, TARGET)
        row.met = (row.ratio or 0) >= 0.5
        rows.append(row)
        celery = celery_row(sink, opts, base)
        if celery.ours is not None:
            # Issue 18: the cluster path at the embedded path's speed, in the same run.
            share = celery.ours.median / ours.median
            celery.target = "≥ 80% of the embedded figure (same run)"
            celery.met = share >= 0.8
            celery.note += f"; {share:.0%} of the embedded figure (same run)"
        rows.append(celery)
    return rows


# --- Celery workers on PostgreSQL + Redis --------------------------------------------------

READY_SECONDS = 120  # a worker starting on a loaded machine


def celery_row(sink: SinkProcess, opts: Options, base: Sample) -> Row:
    n, conns, procs = opts.send_n, opts.mailboxes, opts.worker_concurrency
    label = f"send path, Celery on PostgreSQL + Redis ({n:,} msgs, {conns} mailboxes)"
    if not postgres_available():
        return not_measured(label, "PostgreSQL not reachable", TARGET, base)
    try:
        values = [celery_once(sink, n, conns, procs) for _ in range(opts.runs)]
    except NotMeasured as exc:
        return not_measured(label, str(exc), TARGET, base)
    row = Row(label, Sample(values, "msg/s"), base, TARGET)
    row.met = (row.ratio or 0) >= 0.5
    row.note = (
        f"1 worker × {procs} processes + beat (tick every 1 s), send batch 50, 2 send "
        "tasks sharing the mailboxes, one kept SMTP connection per mailbox"
    )
    if n < 1000:
        row.note += "; so few messages measure beat's 1-s cadence more than throughput"
    return row


def celery_once(sink: SinkProcess, n: int, mailboxes: int, concurrency: int) -> float:
    """One run on a fresh database with a fresh worker and beat; messages per second."""
    with throwaway_postgres("celery") as url, temp_dir("celery") as tmp:
        db = Database(url)
        try:
            db.upgrade()
            seed.workspace(db, tmp, mailboxes, sink.url).enroll_up_to(n, due=n)
            sink.reset()
            with Cluster(tmp, url, concurrency) as cluster:
                # A day early nothing is due: the workers start and idle on empty ticks.
                cluster.set_clock(seed.NOW - timedelta(days=1))
                cluster.worker()
                cluster.beat()
                cluster.wait_ready("worker", READY_SECONDS)
                cluster.set_clock(seed.NOW)  # every one of the N is due from this instant
                start = time.perf_counter()
                cluster.nudge("kadenz.tick")  # beat would within a second; start at once
                # Sent, and every enrollment moved on to its wait (3 business days on).
                cluster.wait_sent(db, sink, n, moved_on_before=seed.NOW + timedelta(days=1))
                elapsed = time.perf_counter() - start
                time.sleep(0.5)  # a duplicate send would arrive by now
                if sink.count() != n:
                    raise RuntimeError(f"the sink received {sink.count()} messages, not {n}")
        finally:
            db.dispose()
    return n / elapsed

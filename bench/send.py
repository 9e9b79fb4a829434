"""Figure 1 — the send path end to end, against bare aiosmtplib to the same sink.

Ours: N enrollments due for their first email, then Runner rounds (tick → render → MIME →
claim → SMTP → state committed) until all N are sent. Baseline: the same N messages,
pre-built, pushed by bare aiosmtplib with the same number of reused connections (one per
mailbox) to the same sink. The sink runs in its own process (bench/sink.py).
"""

from __future__ import annotations

import asyncio
import time

import aiosmtplib

from bench import seed
from bench.common import Options, Row, Sample, missing_module, not_measured, temp_dir
from bench.sink import SinkProcess
from engine.mail.compose import OutgoingEmail, build_mime, new_message_id

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
    from engine.services.runner import Runner
    from engine.settings import load_settings
    from engine.store.db import Database

    with temp_dir("send") as tmp:
        url = f"sqlite:///{tmp / 'kadenz.db'}"
        db = Database(url)
        db.upgrade()
        sequence_id, version_id, step_id = seed.push_sequence(db, tmp)
        boxes = seed.add_mailboxes(db, mailboxes, sink.url)
        seed.seed_enrollments(
            db,
            start=1,
            count=n,
            due=n,
            sequence_id=sequence_id,
            version_id=version_id,
            step_id=step_id,
            mailbox_ids=boxes,
        )
        settings = load_settings(home=tmp / "home", database_url=url, secret_key="bench")
        runner = Runner(db, VirtualClock(seed.NOW), settings)
        sink.reset()
        sent = 0
        start = time.perf_counter()
        while sent < n:
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
        missing = missing_module("engine.services.runner", "engine.services.sequences")
        if missing:
            rows.append(not_measured(label, f"{missing} is not on main yet", TARGET, base))
        else:
            ours = Sample([embedded_once(sink, n, conns) for _ in range(opts.runs)], "msg/s")
            row = Row(label, ours, base, TARGET)
            row.met = (row.ratio or 0) >= 0.5
            rows.append(row)
    rows.append(
        not_measured(
            f"send path, Celery on PostgreSQL + Redis ({n:,} msgs)",
            _celery_reason(),
            TARGET,
            base,
        )
    )
    return rows


def _celery_reason() -> str:
    try:
        import workers  # noqa: F401
    except ImportError:
        return "the Celery workers (branch `workers`) are not on main yet"
    return "the benchmark does not drive Celery workers yet (see bench/RESULTS.md)"

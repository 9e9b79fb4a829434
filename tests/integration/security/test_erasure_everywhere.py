"""Issue 19 item 1: erasure reaches every table and every queue that can hold personal data.

The test fills every place a person's data can travel (rendered messages, inbound raw mail,
tasks, events' data, a refusal naming the address, webhook deliveries queued while the
receiver was down), erases the person, then scans every text, JSON and binary column of
every table for any of their values, and lets the webhook retry loop run: nothing it POSTs
after the erasure may carry them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, select
from sqlalchemy.orm import Session

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.people import enrollment, erasure, prospects, suppression
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import Base, Enrollment, InboundMessage, OutboundMessage
from engine.workspace import webhooks
from tests.integration.prospects.conftest import add_mailbox, add_sequence
from tests.integration.prospects.test_enroll import add_planned_message_and_task, no_missing
from tests.integration.webhooks.test_webhooks import Receiver

EMAIL = "zelda.quint@quintcorp.example"
# Each value is the person's own: the scan must find none of them anywhere afterwards.
NEEDLES = ("zelda", "quint", "quintessa", "quintcorp", "70 1234567", "xylophone")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    thread.join()


def personal_values_left(session: Session) -> list[str]:
    """Every (table.column = value) in the whole database that holds one of the needles."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [
            c for c in table.columns if isinstance(c.type, String | Text | JSON | LargeBinary)
        ]
        if not columns:
            continue
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                if isinstance(value, bytes):
                    text = value.decode("latin-1")
                elif isinstance(value, str):
                    text = value
                else:
                    text = json.dumps(value, ensure_ascii=False)
                if any(n in text.lower() for n in NEEDLES):
                    found.append(f"{table.name}.{column.name} = {text[:120]!r}")
    return found


def test_item01_erasure_reaches_every_table_and_queue(
    db: Database, clock: VirtualClock, write_csv: Callable[..., Path], receiver: Receiver
) -> None:
    add_sequence(db, at=clock.now())
    add_mailbox(db, "anna", at=clock.now())
    with db.session() as s:
        webhooks.add(s, receiver.url, ["reply", "task_due", "bounce"], at=clock.now())
    path = write_csv(
        "email,first name,last name,company,phone,notes\n"
        "Zelda.Quint@QuintCorp.example,Zelda,Quintessa,Quintcorp Labs,+46 70 1234567,"
        "loves xylophones\n"
    )
    assert prospects.import_csv(db, path, clock=clock).created == 1
    with db.session() as s:
        enrollment.enroll(s, "saas-founders", [EMAIL], at=clock.now(), check_variables=no_missing)
    with db.session() as s:
        row = s.scalars(select(Enrollment)).one()
        add_planned_message_and_task(s, row, clock)
        s.flush()
        message = s.scalars(select(OutboundMessage)).one()
        message.subject, message.body_text = "Hi Zelda", "Hi Zelda Quintessa of Quintcorp Labs"
        message.last_error = f"550 5.1.1 <{EMAIL}>: user unknown"
        events.record(
            s, EventType.TASK_CREATED, clock.now(), enrollment=row,
            data={"title": "Book a meeting with Zelda Quintessa", "source": "rule"},
        )  # fmt: skip
        events.record(
            s, EventType.REPLY_RECEIVED, clock.now(), message=message,
            data={"intent": "positive", "snippet": "Zelda here: yes, call +46 70 1234567"},
        )  # fmt: skip
        s.add(
            InboundMessage(
                dedupe_key="<r1@quintcorp.example>",
                source="file",
                raw=f"From: Zelda Quintessa <{EMAIL}>\r\n\r\nYes! Zelda".encode(),
                from_address=EMAIL,
                subject="Re: Hi Zelda",
                received_at=clock.now(),
                classification="reply",
                prospect_id=row.prospect_id,
                created_at=clock.now(),
            )
        )
        s.add(  # a bounce that never matched the prospect, only names the address
            InboundMessage(
                dedupe_key="<b1@mx.example>",
                source="file",
                raw=f"Final-Recipient: rfc822; {EMAIL}\r\n".encode(),
                from_address="mailer-daemon@mx.example",
                subject="Undelivered Mail",
                received_at=clock.now(),
                classification="bounce",
                recipients=[EMAIL],
                created_at=clock.now(),
            )
        )
    with db.session() as s:  # a refusal whose reason names the address, logged as an event
        suppression.add(s, EMAIL, reason="asked by phone", at=clock.now())
        enrollment.enroll(s, "saas-founders", [EMAIL], at=clock.now(), check_variables=no_missing)

    receiver.fail_next = 1000  # the receiver is down: deliveries wait in the queue
    first = webhooks.deliver_webhooks(db, clock)
    assert first.queued >= 2 and first.retried == first.queued
    with db.session() as s:
        assert personal_values_left(s)  # the scan sees them before the erasure

    with db.session() as s:
        erasure.erase(s, EMAIL, at=clock.now())

    with db.session() as s:
        assert personal_values_left(s) == []

    receiver.fail_next = 0  # the receiver is back: the retry loop POSTs what waited
    receiver.requests.clear()
    clock.advance(webhooks.MAX_DELAY)
    second = webhooks.deliver_webhooks(db, clock)
    assert second.delivered == first.queued and receiver.requests
    for _, body in receiver.requests:
        text = body.decode().lower()
        assert not [n for n in NEEDLES if n in text], text
        assert json.loads(body)["prospect"]["erased"] is True

"""Webhooks against a real local HTTP receiver: signed, retried with backoff, logged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.store.db import Database
from engine.store.models import WebhookDelivery
from engine.workspace import webhooks
from tests.support.seed import Seeder, day, seed_scenario


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                status = 500 if receiver.fail_next > 0 else 204
                receiver.fail_next -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    thread.join()


def test_signed_delivery_retry_and_log(db: Database, receiver: Receiver) -> None:
    clock = VirtualClock(day(9))
    with db.session() as s:
        hook = webhooks.add(s, receiver.url, ["reply", "positive_reply", "opt_out"], at=clock.now())
        secret = hook.secret
    sc = seed_scenario(db)  # events after the hook was added
    with db.session() as s:  # one more positive reply, written after the seed
        from engine.store.models import OutboundMessage

        m = s.get(OutboundMessage, sc.outbound["q1.intro"])
        assert m is not None
        Seeder(s).reply(m, day(9, 10), intent="positive", text="Yes please")
    receiver.fail_next = 1
    first = webhooks.deliver_webhooks(db, clock)
    # saas: 5 human replies (p2's too: it was one when it arrived) + agencies 2; positive: p0,
    # p8, q0, q1; opt-out: p3 → 7 + 4 + 1 = 12 deliveries, the first POST fails once.
    assert first.queued == 12
    assert (first.delivered, first.retried, first.failed) == (11, 1, 0)
    assert webhooks.deliver_webhooks(db, clock).delivered == 0  # not due yet: backoff
    clock.advance(webhooks.backoff(1))
    second = webhooks.deliver_webhooks(db, clock)
    assert (second.queued, second.delivered) == (0, 1)
    assert len(receiver.requests) == 13
    for headers, body in receiver.requests:
        assert webhooks.verify(
            secret, headers["X-Kadenz-Signature"], body, int(clock.now().timestamp())
        )
        assert not webhooks.verify(
            "wrong", headers["X-Kadenz-Signature"], body, int(clock.now().timestamp())
        )
    kinds = sorted(json.loads(body)["kind"] for _, body in receiver.requests[1:])
    assert kinds.count("positive_reply") == 4 and kinds.count("opt_out") == 1
    positive = [
        json.loads(b) for _, b in receiver.requests if json.loads(b)["kind"] == "positive_reply"
    ]
    assert {p["prospect"]["first_name"] for p in positive} == {"Erik", "Felix", "Agnes", "Bruno"}
    with db.session() as s:
        log = list(s.scalars(select(WebhookDelivery)))
    assert {d.state for d in log} == {"delivered"}
    assert max(d.attempts for d in log) == 2
    assert webhooks.deliver_webhooks(db, clock) == webhooks.DeliveryStats(0, 0, 0, 0)


def test_gives_up_after_max_attempts(db: Database, receiver: Receiver) -> None:
    clock = VirtualClock(day(9))
    with db.session() as s:
        webhooks.add(s, receiver.url, ["opt_out"], at=clock.now())
    seed_scenario(db)
    receiver.fail_next = 100
    for _ in range(webhooks.MAX_ATTEMPTS):
        webhooks.deliver_webhooks(db, clock)
        clock.advance(webhooks.MAX_DELAY)
    with db.session() as s:
        [delivery] = list(s.scalars(select(WebhookDelivery)))
    assert delivery.state == "failed" and delivery.attempts == webhooks.MAX_ATTEMPTS
    assert delivery.last_status == 500 and delivery.last_error == "HTTP 500"
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS


def test_backoff_grows_and_is_capped() -> None:
    assert webhooks.backoff(1) == timedelta(seconds=30)
    assert webhooks.backoff(3) == timedelta(minutes=2)
    assert webhooks.backoff(30) == webhooks.MAX_DELAY

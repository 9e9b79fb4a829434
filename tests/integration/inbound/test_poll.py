"""IMAP polling bookkeeping with an in-process fetcher: checkpoints, failures, re-polls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.inbound import poll
from engine.store.db import Database
from engine.store.models import Enrollment, ImapCheckpoint, InboundMessage, Mailbox
from tests.support.inbound_world import enroll_and_send, make_world, reply, standin_classify


@dataclass
class Msg:
    folder: str
    uid: int
    raw: bytes


class FakeServer:
    """What an IMAP server would answer: messages above the checkpoint's UID."""

    def __init__(self, uidvalidity: int = 7) -> None:
        self.uidvalidity = uidvalidity
        self.folders: dict[str, list[Msg]] = {"INBOX": []}
        self.calls: list[dict[str, Any]] = []

    def add(self, raw: bytes, folder: str = "INBOX") -> None:
        box = self.folders.setdefault(folder, [])
        box.append(Msg(folder, len(box) + 1, raw))

    def fetch(
        self,
        url: str,
        user: str | None,
        password: str,
        folders: list[str],
        cps: dict[str, poll.Checkpoint],
    ) -> tuple[list[Msg], dict[str, poll.Checkpoint]]:
        self.calls.append({"url": url, "user": user, "password": password, "cps": dict(cps)})
        out: list[Msg] = []
        new: dict[str, poll.Checkpoint] = {}
        for folder in folders:
            cp = cps.get(folder)
            last = cp.last_uid if cp and cp.uidvalidity == self.uidvalidity else 0
            found = [m for m in self.folders.get(folder, []) if m.uid > last]
            out += found
            top = max([m.uid for m in found], default=last)
            new[folder] = poll.Checkpoint(folder, self.uidvalidity, top)
        return out, new


def _imap_world(db: Database, clock: VirtualClock) -> tuple[Any, int]:
    world = make_world(db, clock.now())
    with db.session() as s:
        mailbox = s.get(Mailbox, world.mailbox_id)
        assert mailbox is not None
        mailbox.imap_url = "imap://127.0.0.1:1143"
        mailbox.username = "anna"
        mailbox.password_env = "KADENZ_TEST_ANNA_PW"
    return world, world.mailbox_id


def test_poll_ingests_and_checkpoints(db: Database, clock: VirtualClock) -> None:
    world, mailbox_id = _imap_world(db, clock)
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    server = FakeServer()
    server.add(reply(erik, "Interested, let's talk.", at=clock.now()))
    server.add(b"garbage that is no message")
    env = {"KADENZ_TEST_ANNA_PW": "s3cret"}

    [report] = poll.poll_all(db, clock, fetch=server.fetch, classifier=standin_classify, env=env)

    assert (report.fetched, report.ingested, report.failed, report.error) == (2, 2, 0, None)
    assert report.kinds == {"human_reply": 1, "unclassified": 1}
    assert server.calls[0]["password"] == "s3cret" and server.calls[0]["user"] == "anna"
    with db.session() as s:
        cp = s.scalars(select(ImapCheckpoint)).one()
        assert (cp.folder, cp.uidvalidity, cp.last_uid) == ("INBOX", 7, 2)
        assert s.get(Enrollment, erik.enrollment_id).state == "stopped"  # type: ignore[union-attr]
        assert {r.mailbox_id for r in s.scalars(select(InboundMessage))} == {mailbox_id}

    again = poll.poll_mailbox(db, clock, mailbox_id, fetch=server.fetch, env=env)
    assert (again.fetched, again.ingested) == (0, 0)
    assert server.calls[1]["cps"]["INBOX"].last_uid == 2


def test_a_failed_ingest_holds_the_checkpoint_back(
    db: Database, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, mailbox_id = _imap_world(db, clock)
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    server = FakeServer()
    for n in range(3):
        server.add(reply(erik, f"message {n}", at=clock.now()))
    real = poll.ingest

    def flaky(db_: Database, clock_: Any, raw: bytes, **kw: Any) -> Any:
        if b"message 1" in raw:
            raise ConnectionError("database went away")
        return real(db_, clock_, raw, **kw)

    monkeypatch.setattr(poll, "ingest", flaky)
    env = {"KADENZ_TEST_ANNA_PW": "x"}
    report = poll.poll_mailbox(db, clock, mailbox_id, fetch=server.fetch, env=env)
    assert (report.ingested, report.failed) == (2, 1)  # one bad message never stops the poll
    with db.session() as s:
        assert s.scalars(select(ImapCheckpoint)).one().last_uid == 1

    monkeypatch.setattr(poll, "ingest", real)
    report = poll.poll_mailbox(db, clock, mailbox_id, fetch=server.fetch, env=env)
    assert (report.fetched, report.ingested, report.duplicates) == (2, 1, 1)  # exactly once
    with db.session() as s:
        assert s.scalars(select(ImapCheckpoint)).one().last_uid == 3
        assert len(list(s.scalars(select(InboundMessage.id)))) == 3


def test_missing_password_and_fetch_errors_are_reported(db: Database, clock: VirtualClock) -> None:
    _, mailbox_id = _imap_world(db, clock)
    report = poll.poll_mailbox(db, clock, mailbox_id, fetch=FakeServer().fetch, env={})
    assert report.error and "KADENZ_TEST_ANNA_PW" in report.error

    def down(*args: Any) -> Any:
        raise OSError("connection refused")

    report = poll.poll_mailbox(db, clock, mailbox_id, fetch=down, env={"KADENZ_TEST_ANNA_PW": "x"})
    assert report.error == "OSError: connection refused"
    assert "not polled" in report.summary()

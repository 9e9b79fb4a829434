"""Which mailboxes have mail to send now, and a short Redis lock per mailbox.

The workers' `dispatch_sends` task asks `due_mailboxes`, takes the lock (`SET NX PX`) of each
one it can, and spreads the mailboxes it won over at most `KADENZ_SEND_TASKS` send tasks
(`spread`): each task streams its mailboxes together on one worker process, one connection
each, their checkpoints sharing commits. So however often beat nudges and however many
beats run, at most one send task per mailbox is queued or running, the queue never floods,
and a cluster with more mailboxes than processes still sends for every one of them. The
lock is an optimisation, not the guarantee: two send tasks for one mailbox (an expired lock,
a lost Redis) would still split the messages between them through the database claim
(`FOR UPDATE SKIP LOCKED`), and the Redis limiter keeps the caps.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from engine.clock import Clock
from engine.core.states import EnrollmentState, MessageState
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox, OutboundMessage

# Compare-and-delete / compare-and-extend: only the holder's token may touch the lock.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def due_mailboxes(db: Database, clock: Clock) -> list[int]:
    """Ids of unpaused mailboxes with at least one planned message whose time has come.

    One probe per mailbox that stops at its first due message (`ix_outbound_due`): the
    cost follows the number of mailboxes, not the backlog (beat asks every tick). A LIMIT 1
    subquery rather than EXISTS: PostgreSQL turns an EXISTS into a semi-join that reads
    every due message (measured: 15–18 ms at 5,000 due, once a second from each beat).
    """
    first_due = (
        select(OutboundMessage.id)
        .join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
        .where(
            OutboundMessage.mailbox_id == Mailbox.id,
            OutboundMessage.state == MessageState.PLANNED,
            OutboundMessage.not_before <= clock.now(),
            Enrollment.state.in_(
                [EnrollmentState.ACTIVE, EnrollmentState.STOPPED, EnrollmentState.FINISHED]
            ),
        )
        # The index's own order: the probe walks `ix_outbound_due` from this mailbox's
        # earliest due message (without it PostgreSQL may scan the table for a first match).
        .order_by(OutboundMessage.not_before, OutboundMessage.id)
        .limit(1)
        .correlate(Mailbox)
        .scalar_subquery()
    )
    with db.session() as session:
        stmt = (
            select(Mailbox.id)
            .where(Mailbox.paused.is_(False), first_due.is_not(None))
            .order_by(Mailbox.id)
        )
        return list(session.scalars(stmt).all())


def spread(held: list[tuple[int, str]], tasks: int) -> list[list[tuple[int, str]]]:
    """`held` (mailbox id, lock token) dealt round-robin into at most `tasks` groups."""
    groups: list[list[tuple[int, str]]] = [[] for _ in range(max(1, min(tasks, len(held))))]
    for n, item in enumerate(held):
        groups[n % len(groups)].append(item)
    return [g for g in groups if g]


class MailboxLocks:
    """`SET NX PX` locks named `<prefix>lock:<kind>:<id>`, each held by a random token.

    kind "send": one per mailbox (dispatch, above). kind "tick": numbered slots that bound
    how many tick tasks run at once (`workers.tasks.tick`).
    """

    def __init__(self, client: Any, prefix: str, ttl_seconds: float, kind: str = "send") -> None:
        self.client = client
        self.prefix = prefix
        self.kind = kind
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)

    def key(self, mailbox_id: int) -> str:
        return f"{self.prefix}lock:{self.kind}:{mailbox_id}"

    def acquire(self, mailbox_id: int) -> str | None:
        """A token if this caller now holds the lock, else None."""
        token = uuid.uuid4().hex
        if self.client.set(self.key(mailbox_id), token, nx=True, px=self.ttl_ms):
            return token
        return None

    def acquire_any(self, slots: int) -> tuple[int, str] | None:
        """The first free slot of `slots` numbered locks, with its token; None when all are held."""
        for slot in range(slots):
            token = self.acquire(slot)
            if token is not None:
                return slot, token
        return None

    def extend(self, mailbox_id: int, token: str) -> bool:
        return bool(self._extend(keys=[self.key(mailbox_id)], args=[token, self.ttl_ms]))

    def release(self, mailbox_id: int, token: str) -> bool:
        return bool(self._release(keys=[self.key(mailbox_id)], args=[token]))


def pollable_mailboxes(db: Database) -> list[int]:
    """Ids of mailboxes that have an IMAP inbox to poll, paused ones too: replies still
    arrive, and a pause for a dark inbox is lifted by the next good poll."""
    with db.session() as session:
        stmt = select(Mailbox.id).where(Mailbox.imap_url.is_not(None)).order_by(Mailbox.id)
        return list(session.scalars(stmt).all())

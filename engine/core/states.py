"""The state machines of Kadenz, written down in one place.

Every transition the engine makes goes through `advance_*`, which refuses a transition that
is not in the table below. The tables are tested exhaustively (tests/unit/core).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

S = TypeVar("S", bound=StrEnum)


class IllegalTransition(Exception):
    """A programming error: code tried a transition the state machine does not allow."""


class EnrollmentState(StrEnum):
    ACTIVE = "active"  # runs: next_run_at says when its current step is due
    WAITING = "waiting"  # waits for a call/task to be done or skipped by a person
    PAUSED = "paused"  # held by a person or a rule (out-of-office, missing data); may resume
    FINISHED = "finished"  # ran its last step; nothing more to do
    STOPPED = "stopped"  # ended early: reply, bounce, unsubscribe, suppression, a person


ENROLLMENT_TRANSITIONS: dict[EnrollmentState, frozenset[EnrollmentState]] = {
    EnrollmentState.ACTIVE: frozenset(
        {
            EnrollmentState.WAITING,
            EnrollmentState.PAUSED,
            EnrollmentState.FINISHED,
            EnrollmentState.STOPPED,
        }
    ),
    EnrollmentState.WAITING: frozenset(
        {
            EnrollmentState.ACTIVE,
            EnrollmentState.PAUSED,
            EnrollmentState.FINISHED,
            EnrollmentState.STOPPED,
        }
    ),
    EnrollmentState.PAUSED: frozenset(
        {EnrollmentState.ACTIVE, EnrollmentState.WAITING, EnrollmentState.STOPPED}
    ),
    # A wrongly classified reply can be corrected by a human: a stop is undone to active.
    EnrollmentState.STOPPED: frozenset({EnrollmentState.ACTIVE, EnrollmentState.PAUSED}),
    EnrollmentState.FINISHED: frozenset({EnrollmentState.STOPPED}),
}

LIVE_ENROLLMENT_STATES = frozenset(
    {EnrollmentState.ACTIVE, EnrollmentState.WAITING, EnrollmentState.PAUSED}
)


class MessageState(StrEnum):
    PLANNED = "planned"  # rendered and waiting for its turn (window, caps, retry backoff)
    SENDING = "sending"  # committed before the SMTP transaction starts; has its Message-ID
    SENT = "sent"  # the server accepted DATA with a 2xx
    FAILED = "failed"  # gave up: retries exhausted or a permanent non-bounce error
    BOUNCED = "bounced"  # rejected at RCPT (5xx) or a bounce report arrived later
    AMBIGUOUS = "ambiguous"  # its SMTP transaction may have begun and its end is unknown
    CANCELLED = "cancelled"  # not sent on purpose: suppressed, enrollment stopped, mailbox gone


MESSAGE_TRANSITIONS: dict[MessageState, frozenset[MessageState]] = {
    MessageState.PLANNED: frozenset({MessageState.SENDING, MessageState.CANCELLED}),
    MessageState.SENDING: frozenset(
        {
            MessageState.SENT,
            MessageState.FAILED,
            MessageState.BOUNCED,
            MessageState.AMBIGUOUS,
            # back to planned only when no byte of DATA was sent (4xx, refused), or when its
            # sender died before the transaction began (`smtp_started_at` never committed)
            MessageState.PLANNED,
        }
    ),
    MessageState.SENT: frozenset({MessageState.BOUNCED}),  # a DSN arrives later
    MessageState.AMBIGUOUS: frozenset(
        {
            MessageState.SENT,  # proof (the copy in Sent, a late 2xx) or a person
            MessageState.FAILED,  # a person
            MessageState.BOUNCED,  # a bounce report arrives
            MessageState.PLANNED,  # proof of absence: see "Why never twice" below
        }
    ),
    MessageState.FAILED: frozenset(),
    # A bounce report wrongly applied (a human reclassified the inbound message) is undone.
    MessageState.BOUNCED: frozenset({MessageState.SENT}),
    MessageState.CANCELLED: frozenset(),
}

# Why never twice (docs/sending.md, "Ambiguous means maybe inside an SMTP transaction").
#
# A copy reaches a server only through an SMTP transaction that got its end of data: one
# the connection loses before that is cancelled by the server (RFC 5321 §3.8). A sender
# sends a message's DATA only after these commits, in this order (its MAIL FROM and RCPT TO
# may go out while the second one is being committed):
#   1. the claim: `planned` → `sending`, with a fresh random `claim_token` (the claim
#      re-checks suppression, the enrollment, the window and the caps);
#   2. the start: `smtp_started_at` set, by an UPDATE that requires state `sending`, the
#      sender's own token and no earlier start. A sender whose UPDATE changes no row skips
#      the message. The outcome of the connection's previous message is in the same commit,
#      so a connection has at most one started message without a recorded outcome.
# Nothing clears `smtp_started_at` while the message is `sending`. From there:
#   - started, then a recorded outcome: sent/bounced/failed are final for sending; `planned`
#     only for an outcome that proves no DATA was accepted (4xx or a drop before DATA);
#   - started, outcome never recorded (crash, lost reply): the lease runs out and the message
#     becomes `ambiguous` — never `planned`, because the transaction may have happened;
#   - never started, lease run out: back to `planned` with the token cleared. No copy exists
#     (its DATA was never sent), and its old sender can no longer start it: step 2 needs its
#     token. The next claim is a new claim: same Message-ID, same step (the unique
#     (enrollment, step) row), every check again.
# `ambiguous` leaves only by proof or a person: `sent` on a copy found in the mailbox's Sent
# folder or a late 2xx of the claim that started it (its token); `planned` only when the Sent
# folder of a provider that files every submission was searched after a grace period far
# longer than any transaction and holds no copy; otherwise a person decides.
# So each copy that exists belongs to one started claim, a started claim is never re-planned
# without proof that its copy does not exist, and no second claim of a row can start while
# the first could still send: one copy at most.


class TaskState(StrEnum):
    OPEN = "open"  # in the owner's queue
    DONE = "done"  # completed, with an outcome
    SKIPPED = "skipped"  # deliberately not done; the sequence goes on
    CANCELLED = "cancelled"  # the enrollment stopped before anyone did it (re-opened only
    # when that stop is taken back: a reply reclassified as an out-of-office)


TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.OPEN: frozenset({TaskState.DONE, TaskState.SKIPPED, TaskState.CANCELLED}),
    TaskState.DONE: frozenset(),
    TaskState.SKIPPED: frozenset(),
    TaskState.CANCELLED: frozenset({TaskState.OPEN}),
}


def _check(table: dict[S, frozenset[S]], current: S, target: S) -> S:
    if target not in table[current]:
        raise IllegalTransition(f"{type(current).__name__}: {current} -> {target} is not allowed")
    return target


def advance_enrollment(current: EnrollmentState, target: EnrollmentState) -> EnrollmentState:
    return _check(ENROLLMENT_TRANSITIONS, current, target)


def advance_message(current: MessageState, target: MessageState) -> MessageState:
    return _check(MESSAGE_TRANSITIONS, current, target)


def advance_task(current: TaskState, target: TaskState) -> TaskState:
    return _check(TASK_TRANSITIONS, current, target)

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
    AMBIGUOUS = "ambiguous"  # may or may not have been delivered; a human decides, never retried
    CANCELLED = "cancelled"  # not sent on purpose: suppressed, enrollment stopped, mailbox gone


MESSAGE_TRANSITIONS: dict[MessageState, frozenset[MessageState]] = {
    MessageState.PLANNED: frozenset({MessageState.SENDING, MessageState.CANCELLED}),
    MessageState.SENDING: frozenset(
        {
            MessageState.SENT,
            MessageState.FAILED,
            MessageState.BOUNCED,
            MessageState.AMBIGUOUS,
            MessageState.PLANNED,
        }  # back to planned only when no byte of DATA was sent (4xx, refused)
    ),
    MessageState.SENT: frozenset({MessageState.BOUNCED}),  # a DSN arrives later
    MessageState.AMBIGUOUS: frozenset(
        {MessageState.SENT, MessageState.FAILED, MessageState.BOUNCED}  # a human or proof decides
    ),
    MessageState.FAILED: frozenset(),
    # A bounce report wrongly applied (a human reclassified the inbound message) is undone.
    MessageState.BOUNCED: frozenset({MessageState.SENT}),
    MessageState.CANCELLED: frozenset(),
}


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

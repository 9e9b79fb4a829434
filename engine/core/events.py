"""Event types: the vocabulary of the append-only log (engine.store.models.Event).

Reports are computed from these, so each name is a promise: add new ones, never repurpose.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    # prospects and enrollments
    PROSPECT_CREATED = "prospect.created"
    PROSPECT_UPDATED = "prospect.updated"
    PROSPECT_ERASED = "prospect.erased"
    ENROLLED = "enrollment.enrolled"  # data: mailbox
    ENROLL_REFUSED = "enrollment.refused"  # data: reason
    STEP_EXECUTED = "enrollment.step_executed"  # data: step type
    PAUSED = "enrollment.paused"  # data: reason, until
    RESUMED = "enrollment.resumed"
    WAITING = "enrollment.waiting"  # for a task
    STOPPED = "enrollment.stopped"  # data: reason
    FINISHED = "enrollment.finished"
    MIGRATED = "enrollment.migrated"  # data: from_version, to_version
    SCORE_CHANGED = "prospect.score_changed"  # data: delta, score, reason
    # outbound messages
    MESSAGE_PLANNED = "message.planned"
    MESSAGE_HELD = "message.held"  # data: reason (cap, window)
    MESSAGE_SENDING = "message.sending"
    MESSAGE_SENT = "message.sent"
    MESSAGE_RETRY = "message.retry"  # data: code, error, next attempt
    MESSAGE_FAILED = "message.failed"
    MESSAGE_BOUNCED = "message.bounced"  # data: kind (hard/soft/blocked), status, source
    MESSAGE_AMBIGUOUS = "message.ambiguous"
    MESSAGE_CANCELLED = "message.cancelled"  # data: reason
    # inbound
    INBOUND_RECEIVED = "inbound.received"  # data: class, intent
    REPLY_RECEIVED = "reply.received"  # a human reply; data: intent
    AUTO_REPLY_RECEIVED = "reply.auto"  # out-of-office and other auto-replies
    BOUNCE_RECEIVED = "bounce.received"  # data: kind, status
    COMPLAINT_RECEIVED = "complaint.received"
    UNSUBSCRIBED = "prospect.unsubscribed"  # data: via (link, reply, mail, api), evidence
    INBOUND_RECLASSIFIED = "inbound.reclassified"  # data: from, to, by
    INBOX_HANDLED = "inbox.handled"  # a person marked an inbound message done; data: by
    INBOX_REPLIED = "inbox.replied"  # a person answered it from the inbox; data: by, message
    NOTE_ADDED = "prospect.note_added"  # data: by
    # suppressions
    SUPPRESSED = "suppression.added"
    UNSUPPRESSED = "suppression.removed"
    # tasks
    TASK_CREATED = "task.created"
    TASK_COMPLETED = "task.completed"  # data: outcome
    TASK_SKIPPED = "task.skipped"
    MEETING_BOOKED = "meeting.booked"
    # mailboxes
    MAILBOX_PAUSED = "mailbox.paused"  # data: reason (e.g. bounce-rate breaker)
    MAILBOX_RESUMED = "mailbox.resumed"

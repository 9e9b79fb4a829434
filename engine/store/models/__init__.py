"""The data model. Import `engine.store.models` to register every table on `Base.metadata`."""

from engine.store.models.access import ApiToken, RevokedSession, User
from engine.store.models.base import Base
from engine.store.models.domains import DkimKey, SendingDomain, WorkspacePolicy
from engine.store.models.events import Event
from engine.store.models.inbound import ImapCheckpoint, InboundMessage, ProspectNote
from engine.store.models.mailboxes import Mailbox, MailboxLink
from engine.store.models.messages import OutboundMessage
from engine.store.models.people import Account, Prospect, Suppression
from engine.store.models.sequences import Enrollment, PolicyVersion, Sequence, SequenceVersion
from engine.store.models.tasks import Task
from engine.store.models.web import (
    ReportCursor,
    ReportFact,
    ReportGap,
    ReportRollup,
    Webhook,
    WebhookDelivery,
)

__all__ = [
    "Account",
    "ApiToken",
    "Base",
    "DkimKey",
    "Enrollment",
    "Event",
    "ImapCheckpoint",
    "InboundMessage",
    "Mailbox",
    "MailboxLink",
    "OutboundMessage",
    "PolicyVersion",
    "Prospect",
    "ProspectNote",
    "ReportCursor",
    "ReportFact",
    "ReportGap",
    "ReportRollup",
    "RevokedSession",
    "SendingDomain",
    "Sequence",
    "SequenceVersion",
    "Suppression",
    "Task",
    "User",
    "Webhook",
    "WebhookDelivery",
    "WorkspacePolicy",
]

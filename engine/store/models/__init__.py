"""The data model. Import `engine.store.models` to register every table on `Base.metadata`."""

from engine.store.models.access import ApiToken, User
from engine.store.models.base import Base
from engine.store.models.events import Event
from engine.store.models.inbound import ImapCheckpoint, InboundMessage, ProspectNote
from engine.store.models.mailboxes import Mailbox
from engine.store.models.messages import OutboundMessage
from engine.store.models.people import Account, Prospect, Suppression
from engine.store.models.sequences import Enrollment, Sequence, SequenceVersion
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
    "Enrollment",
    "Event",
    "ImapCheckpoint",
    "InboundMessage",
    "Mailbox",
    "OutboundMessage",
    "Prospect",
    "ProspectNote",
    "ReportCursor",
    "ReportFact",
    "ReportGap",
    "ReportRollup",
    "Sequence",
    "SequenceVersion",
    "Suppression",
    "Task",
    "User",
    "Webhook",
    "WebhookDelivery",
]

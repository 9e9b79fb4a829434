"""Rows for the sending tests: a mailbox, a pushed sequence version, prospects, enrollments.

The sequence is given as the JSON form a pushed version stores (`SequenceVersion.spec`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import VirtualClock
from engine.core.states import EnrollmentState, MessageState
from engine.sequence_language.loader import spec_from_json
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    Mailbox,
    OutboundMessage,
    Prospect,
    Sequence,
    SequenceVersion,
)
from tests.support.smtp_server import SmtpSink

BASIC_SPEC: dict[str, Any] = {
    "key": "saas-founders",
    "name": "SaaS founders",
    "mailboxes": ["anna"],
    "schedule": {
        "timezone": "prospect",
        "fallback_timezone": "Europe/Berlin",
        "window": "Mon-Fri 09:00-17:00",
        "holidays": "DE-BY",
    },
    "stop_on": ["reply", "bounce", "unsubscribe"],
    "steps": [
        {
            "id": "intro",
            "type": "email",
            "subject": "Quick question, {{ first_name }}",
            "template": "intro.md.j2",
        },
        {"id": "wait-1", "type": "wait", "duration": "3 business days"},
        {"id": "bump", "type": "email", "thread": "previous", "template": "bump.md.j2"},
    ],
}
BASIC_TEMPLATES = {
    "intro.md.j2": "Hi {{ first_name }},\n\nhow does {{ company }} book demos today?\n",
    "bump.md.j2": "Hi {{ first_name }}, bumping this up.\n",
}


def spec_json(spec: dict[str, Any]) -> dict[str, Any]:
    """The stored JSON of a spec, as `sequences.push` writes it (validated by the model)."""
    return spec_from_json(spec).model_dump(mode="json")


def make_mailbox(session: Session, at: datetime, name: str = "anna", **fields: Any) -> Mailbox:
    values: dict[str, Any] = {
        "address": f"{name}@acme.example",
        "display_name": name.title() + " Acme",
        "smtp_url": "smtp://127.0.0.1:1",
        "timezone": "Europe/Berlin",
        "daily_cap": 50,
        "created_at": at,
    }
    values.update(fields)
    mailbox = Mailbox(name=name, **values)
    session.add(mailbox)
    session.flush()
    return mailbox


def make_version(
    session: Session,
    at: datetime,
    spec: dict[str, Any] | None = None,
    templates: dict[str, str] | None = None,
) -> SequenceVersion:
    spec = spec or BASIC_SPEC
    sequence = Sequence(key=spec["key"], name=spec["name"], created_at=at)
    session.add(sequence)
    session.flush()
    version = SequenceVersion(
        sequence_id=sequence.id,
        version=1,
        content_hash=f"hash-{sequence.id}",
        source="# test",
        spec=spec_json(spec),
        templates=dict(BASIC_TEMPLATES if templates is None else templates),
        created_at=at,
    )
    session.add(version)
    session.flush()
    sequence.current_version_id = version.id
    return version


def make_prospect(session: Session, at: datetime, email: str, **fields: Any) -> Prospect:
    values: dict[str, Any] = {
        "first_name": email.split("@")[0].split(".")[0].title(),
        "company": "Example GmbH",
        "timezone": "Europe/Berlin",
        "owner": "sdr@acme.example",
        "custom": {},
    }
    values.update(fields)
    prospect = Prospect(
        email=email, email_key=email.lower(), created_at=at, updated_at=at, **values
    )
    session.add(prospect)
    session.flush()
    return prospect


def enroll(
    session: Session,
    at: datetime,
    prospect: Prospect,
    version: SequenceVersion,
    mailbox: Mailbox,
) -> Enrollment:
    first = version.spec["steps"][0]["id"]
    enrollment = Enrollment(
        prospect_id=prospect.id,
        sequence_id=version.sequence_id,
        version_id=version.id,
        mailbox_id=mailbox.id,
        state=EnrollmentState.ACTIVE,
        step_index=0,
        step_id=first,
        next_run_at=at,
        step_started_at=at,
        variants={},
        owner=prospect.owner,
        created_at=at,
        updated_at=at,
    )
    session.add(enrollment)
    session.flush()
    return enrollment


@dataclass
class World:
    mailbox_id: int
    version_id: int
    enrollment_ids: list[int]


def build_world(
    session: Session,
    at: datetime,
    emails: list[str],
    *,
    spec: dict[str, Any] | None = None,
    templates: dict[str, str] | None = None,
    **mailbox_fields: Any,
) -> World:
    mailbox = make_mailbox(session, at, **mailbox_fields)
    version = make_version(session, at, spec, templates)
    ids = [enroll(session, at, make_prospect(session, at, e), version, mailbox).id for e in emails]
    return World(mailbox.id, version.id, ids)


def advance_to_due(db: Database, clock: VirtualClock) -> None:
    """Move the clock to when every planned message is due (sends spread over the day)."""
    with db.session() as session:
        latest = session.scalar(
            select(func.max(OutboundMessage.not_before)).where(
                OutboundMessage.state == MessageState.PLANNED
            )
        )
    if latest is not None and latest > clock.now():
        clock.set(latest)


def received(sink: SmtpSink) -> list[EmailMessage]:
    """The messages the SMTP sink accepted, parsed."""
    out = []
    for m in sink.messages:
        parsed = message_from_bytes(m.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        out.append(parsed)
    return out


def add_send_history(session: Session, world: World, now: datetime, *, domain: str) -> None:
    """One sent message per enrollment of `world`: 30 h, 1 h and 2 h … ago (the first one
    falls outside a rolling 24 hours), to `x<i>@<domain>`."""
    for i, enrollment_id in enumerate(world.enrollment_ids):
        sent_at = now - timedelta(hours=30 if i == 0 else i)
        session.add(sent_message(session, world, enrollment_id, sent_at, to=f"x{i}@{domain}"))


def sent_message(
    session: Session,
    world: World,
    enrollment_id: int,
    at: datetime,
    *,
    to: str,
    state: MessageState = MessageState.SENT,
    smtp_status: str | None = None,
) -> OutboundMessage:
    """An outbound row of the enrollment's intro that left at `at` (history for caps and
    the bounce-rate breaker), `state` sent or bounced."""
    enrollment = session.get(Enrollment, enrollment_id)
    assert enrollment is not None
    return OutboundMessage(
        enrollment_id=enrollment_id,
        step_id="intro",
        prospect_id=enrollment.prospect_id,
        mailbox_id=world.mailbox_id,
        sequence_id=enrollment.sequence_id,
        version_id=world.version_id,
        state=state,
        smtp_status=smtp_status,
        to_address=to,
        from_address="anna@acme.example",
        subject="s",
        body_text="b",
        message_id=f"history-{enrollment_id}@acme.example",
        references=[],
        headers={},
        not_before=at,
        sent_at=at,
        attempts=1,
        created_at=at,
        updated_at=at,
    )

"""Test helpers for inbound mail: a small world of rows, complete RFC 5322 messages, and a
stand-in classifier (stdlib `email` only) so the inbound services are tested on their own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.policy import compat32
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy.orm import Session

from engine.core.classification import (
    AutoReplyKind,
    Classification,
    InboundClass,
    ReplyIntent,
)
from engine.core.states import EnrollmentState, MessageState
from engine.sequence_language.model import SequenceSpec
from engine.store.db import Database
from engine.store.models import (
    Account,
    Enrollment,
    Mailbox,
    OutboundMessage,
    Prospect,
    Sequence,
    SequenceVersion,
)

OUR_DOMAIN = "mail.kadenz.example"


@dataclass
class World:
    mailbox_id: int
    sequence_id: int
    version_id: int


def make_world(
    db: Database,
    now: datetime,
    *,
    key: str = "saas-founders",
    spec: dict[str, Any] | None = None,
) -> World:
    with db.session() as s:
        mailbox = Mailbox(
            name="anna",
            address="anna@kadenz.example",
            smtp_url="smtp://127.0.0.1:2525",
            imap_folders=[],
            warmup={},
            created_at=now,
        )
        s.add(mailbox)
        s.flush()
        world = add_sequence(s, now, key=key, spec=spec)
        return World(mailbox.id, world[0], world[1])


def add_sequence(
    s: Session, now: datetime, *, key: str, spec: dict[str, Any] | None = None
) -> tuple[int, int]:
    raw = {
        "key": key,
        "name": key,
        "stop_on": ["reply", "bounce", "unsubscribe", "company_reply"],
        "steps": [
            {"id": "intro", "email": {"subject": "Quick question", "template": "intro.md.j2"}},
            {"wait": "3 business days"},
            {"id": "bump", "email": {"thread": "previous", "template": "bump.md.j2"}},
        ],
        **(spec or {}),
    }
    # As `sequence push` stores it: validated by the spec model, dumped to JSON.
    full = SequenceSpec.model_validate(raw).model_dump(mode="json")
    seq = Sequence(key=key, name=key, created_at=now)
    s.add(seq)
    s.flush()
    version = SequenceVersion(
        sequence_id=seq.id,
        version=1,
        content_hash=f"{key:0<64}"[:64],
        source="",
        spec=full,
        templates={
            "intro.md.j2": "Hi {{ first_name }},\n\nQuick question.",
            "bump.md.j2": "Hi again",
        },
        created_at=now,
    )
    s.add(version)
    s.flush()
    seq.current_version_id = version.id
    return seq.id, version.id


@dataclass
class Person:
    prospect_id: int
    enrollment_id: int
    outbound_id: int
    message_id: str
    email: str


def enroll_and_send(
    db: Database,
    world: World,
    now: datetime,
    email: str,
    *,
    first_name: str = "Erik",
    timezone: str | None = "Europe/Berlin",
    sequence_id: int | None = None,
    version_id: int | None = None,
    account_domain: str | None = None,
    owner: str = "sdr-anna",
) -> Person:
    """A prospect enrolled and sent the first email (state `sent`)."""
    with db.session() as s:
        account_id = None
        if account_domain:
            account = s.query(Account).filter_by(domain=account_domain).first()
            if account is None:
                account = Account(domain=account_domain, created_at=now)
                s.add(account)
                s.flush()
            account_id = account.id
        prospect = Prospect(
            email=email,
            email_key=email.lower(),
            first_name=first_name,
            timezone=timezone,
            custom={},
            owner=owner,
            account_id=account_id,
            score=0,
            created_at=now,
            updated_at=now,
        )
        s.add(prospect)
        s.flush()
        enrollment = Enrollment(
            prospect_id=prospect.id,
            sequence_id=sequence_id or world.sequence_id,
            version_id=version_id or world.version_id,
            mailbox_id=world.mailbox_id,
            state=str(EnrollmentState.ACTIVE),
            step_index=1,
            step_id="bump",
            next_run_at=now + timedelta(days=3),
            variants={},
            owner=owner,
            created_at=now,
            updated_at=now,
        )
        s.add(enrollment)
        s.flush()
        message_id = make_msgid(domain=OUR_DOMAIN).strip("<>")
        outbound = OutboundMessage(
            enrollment_id=enrollment.id,
            step_id="intro",
            prospect_id=prospect.id,
            mailbox_id=world.mailbox_id,
            sequence_id=enrollment.sequence_id,
            version_id=enrollment.version_id,
            state=str(MessageState.SENT),
            to_address=email,
            from_address="anna@kadenz.example",
            subject="Quick question, Erik",
            body_text="Hi Erik, ...",
            message_id=message_id,
            references=[],
            headers={},
            not_before=now,
            sent_at=now,
            created_at=now,
            updated_at=now,
        )
        s.add(outbound)
        s.flush()
        return Person(prospect.id, enrollment.id, outbound.id, message_id, email)


# --- complete RFC 5322 messages --------------------------------------------------------


def reply(
    person: Person,
    body: str,
    *,
    sender: str | None = None,
    subject: str = "Re: Quick question, Erik",
    at: datetime,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Erik Example <{sender or person.email}>"
    msg["To"] = "Anna <anna@kadenz.example>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = make_msgid(domain="mx.acme.example")
    msg["In-Reply-To"] = f"<{person.message_id}>"
    msg["References"] = f"<{person.message_id}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def german_reply(person: Person, *, at: datetime) -> bytes:
    body = (
        "Hallo Anna,\n\ndas klingt spannend, gerne nächste Woche einen Termin.\n\n"
        "Viele Grüße\nErik\n\n"
        "Am Mo., 2. März 2026 um 09:00 schrieb Anna <anna@kadenz.example>:\n"
        "> Hi Erik, kurze Frage ...\n"
    )
    return reply(person, body, subject="AW: Quick question, Erik", at=at)


def out_of_office(person: Person, back: date, *, at: datetime) -> bytes:
    return reply(
        person,
        f"Thanks for your email. I am out of the office until {back.isoformat()} "
        "with limited access to email.\n",
        subject="Automatic reply: Quick question, Erik",
        at=at,
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )


def dsn(person: Person, *, status: str = "5.1.1", at: datetime) -> bytes:
    """A Postfix-style bounce report for our message to `person`."""
    action = {"2": "delivered", "4": "delayed", "5": "failed"}[status[0]]
    reply_text = {
        "2": f"250 {status} Ok: queued as 4F2A1",
        "4": f"452 {status} <{person.email}>: Mailbox full, quota exceeded",
        "5": f"550 {status} <{person.email}>: Recipient address rejected: User unknown",
    }[status[0]]
    if status.startswith("5.7"):
        reply_text = f"554 {status} Service unavailable; client host blocked using zen.spamhaus"
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.kadenz.example (Mail Delivery System)"
    report["To"] = "anna@kadenz.example"
    report["Subject"] = (
        "Successful Mail Delivery Report"
        if action == "delivered"
        else "Delayed Mail (still being retried)"
        if action == "delayed"
        else "Undelivered Mail Returned to Sender"
    )
    report["Date"] = format_datetime(at)
    report["Message-ID"] = make_msgid(domain="mx.kadenz.example")
    report["Auto-Submitted"] = "auto-replied"
    human = (
        "Your message was successfully delivered to the destination(s) listed below.\n"
        if action == "delivered"
        else "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n"
    )
    report.attach(
        MIMEText(
            f"This is the mail system at host mx.kadenz.example.\n\n{human}\n"
            f"<{person.email}>: host mx.acme.example said: {reply_text}\n"
        )
    )
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.kadenz.example"
    per_message["Arrival-Date"] = format_datetime(at)
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {person.email}"
    per_recipient["Original-Recipient"] = f"rfc822;{person.email}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Remote-MTA"] = "dns; mx.acme.example"
    per_recipient["Diagnostic-Code"] = f"smtp; {reply_text}"
    status_part = MIMEBase("message", "delivery-status")
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    original = MIMEText(
        "From: anna@kadenz.example\n"
        f"To: {person.email}\n"
        "Subject: Quick question, Erik\n"
        f"Message-ID: <{person.message_id}>\n",
        "rfc822-headers",
    )
    report.attach(original)
    return report.as_bytes()


def complaint(person: Person, *, at: datetime) -> bytes:
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "feedback@isp.example"
    report["To"] = "abuse@kadenz.example"
    report["Subject"] = "Abuse report"
    report["Date"] = format_datetime(at)
    report["Message-ID"] = make_msgid(domain="isp.example")
    report.attach(MIMEText("This is an email abuse report.\n"))
    feedback = MIMEBase("message", "feedback-report")
    feedback.set_payload(
        "Feedback-Type: abuse\nUser-Agent: ISP-FBL/1.0\nVersion: 1\n"
        f"Original-Rcpt-To: {person.email}\n"
    )
    report.attach(feedback)
    report.attach(
        MIMEText(
            f"From: anna@kadenz.example\nTo: {person.email}\n"
            f"Message-ID: <{person.message_id}>\nSubject: Quick question\n",
            "rfc822-headers",
        )
    )
    return report.as_bytes()


# --- a stand-in classifier (the real one is engine.inbound.classifier.classify) -----------

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def standin_classify(raw: bytes) -> Classification:
    try:
        msg = BytesParser(policy=default_policy).parsebytes(raw)
    except Exception:
        return Classification(InboundClass.UNCLASSIFIED, 0.0, ("unparseable",))
    if not msg.keys() or "From" not in msg:
        return Classification(InboundClass.UNCLASSIFIED, 0.0, ("no headers",))
    refs = [t.strip("<>") for t in str(msg.get("In-Reply-To", "")).split() if t]
    for token in reversed(str(msg.get("References", "")).split()):
        if token.strip("<>") not in refs:
            refs.append(token.strip("<>"))
    common: dict[str, Any] = {
        "message_id": str(msg.get("Message-ID", "")).strip("<> ") or None,
        "in_reply_to": tuple(refs),
        "from_address": _address(str(msg.get("From", ""))),
        "subject": str(msg.get("Subject", "")),
    }
    ctype = msg.get_content_type()
    report_type = msg.get_param("report-type") if ctype == "multipart/report" else None
    if report_type == "delivery-status":
        return _dsn(raw, common)
    if report_type == "feedback-report":
        fields = _part_text(raw, "message/feedback-report")
        rcpt = re.search(r"Original-Rcpt-To:\s*(\S+)", fields)
        return Classification(
            InboundClass.COMPLAINT,
            0.99,
            ("multipart/report; report-type=feedback-report",),
            recipients=(rcpt.group(1).lower(),) if rcpt else (),
            original_message_id=_original_id(raw),
            **common,
        )
    body_part = msg.get_body(preferencelist=("plain",))
    body = body_part.get_content() if body_part is not None else ""
    if str(msg.get("Auto-Submitted", "no")).lower() != "no":
        found = _ISO.search(body)
        back = date(int(found[1]), int(found[2]), int(found[3])) if found else None
        return Classification(
            InboundClass.AUTO_REPLY,
            0.95,
            (f"header Auto-Submitted: {msg['Auto-Submitted']}",),
            auto_reply_kind=AutoReplyKind.OUT_OF_OFFICE,
            return_date=back,
            **common,
        )
    text = body.lower()
    intent = ReplyIntent.NEUTRAL
    if "unsubscribe" in text or "remove me" in text:
        intent = ReplyIntent.UNSUBSCRIBE_REQUEST
    elif "not interested" in text:
        intent = ReplyIntent.NEGATIVE
    elif "talk to my colleague" in text:
        intent = ReplyIntent.REFERRAL
    elif "interested" in text or "gerne" in text or "let's talk" in text:
        intent = ReplyIntent.POSITIVE
    quote = re.search(r"^(Am .* schrieb .*:|On .* wrote:)$", body, re.M)
    return Classification(
        InboundClass.HUMAN_REPLY,
        0.9,
        ("no auto-reply headers; In-Reply-To present",),
        intent=intent,
        referral=_address(body.split("colleague", 1)[1]) if "colleague" in text else None,
        reply_text=body[: quote.start()].strip() if quote else body.strip(),
        **common,
    )


def _dsn(raw: bytes, common: dict[str, Any]) -> Classification:
    fields = _part_text(raw, "message/delivery-status")
    status = re.search(r"^Status:\s*([245]\.\d+\.\d+)", fields, re.M)
    rcpt = re.search(r"^Final-Recipient:\s*rfc822;\s*(\S+)", fields, re.M)
    code = status.group(1) if status else "5.0.0"
    kind = InboundClass.HARD_BOUNCE
    if code.startswith("2"):
        kind = InboundClass.DELIVERED
    elif code.startswith("4"):
        kind = InboundClass.SOFT_BOUNCE
    elif code.startswith("5.7"):
        kind = InboundClass.BLOCKED
    return Classification(
        kind,
        0.99,
        (f"delivery-status Status: {code}",),
        recipients=(rcpt.group(1).lower(),) if rcpt else (),
        status=code,
        original_message_id=_original_id(raw),
        **{**common, "in_reply_to": ()},
    )


def _part_text(raw: bytes, ctype: str) -> str:
    msg: Message = BytesParser(policy=compat32).parsebytes(raw)
    for part in msg.walk():
        if part.get_content_type() == ctype:
            payload = part.get_payload()
            if isinstance(payload, list):
                return "\n\n".join(p.as_string() for p in payload)
            return str(payload)
    return ""


def _original_id(raw: bytes) -> str | None:
    text = _part_text(raw, "text/rfc822-headers")
    found = re.search(r"^Message-ID:\s*<([^>]+)>", text, re.M | re.I)
    return found.group(1) if found else None


def _address(text: str) -> str | None:
    found = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
    return found.group(0).lower() if found else None


def unsubscribe_mail(
    sender: str, *, at: datetime, subject: str = "unsubscribe", body: str = ""
) -> bytes:
    """What a mail client sends for our `List-Unsubscribe: <mailto:…?subject=unsubscribe>`
    (RFC 2369, RFC 6068): a new message to the mailbox's address, the URL's subject, no
    thread headers, usually an empty body."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "anna@kadenz.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = make_msgid(domain="mx.acme.example")
    msg.set_content(body)
    return msg.as_bytes()

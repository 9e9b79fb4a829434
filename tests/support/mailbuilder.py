"""Complete RFC 5322 messages for tests, built with the stdlib `email` package.

Each builder returns the bytes a mailbox would hold (CRLF line endings, all the usual
headers), so tests exercise the same parsing path as real inbound mail.
"""

from __future__ import annotations

import email.policy
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

OUR_DOMAIN = "kadenz.example"
DEFAULT_DATE = datetime(2026, 2, 27, 9, 30, tzinfo=UTC)  # a Friday


def our_message(
    to: str = "erik@acme.example",
    *,
    cc: str | None = None,
    subject: str = "Quick question, Erik",
    message_id: str = f"<seq-1.step-intro.42@{OUR_DOMAIN}>",
    body: str = "Hi Erik,\n\nwould a 15-minute call next week make sense?\n\nAnna\n",
) -> EmailMessage:
    """The outbound email Kadenz sent, as embedded in bounces and quoted in replies."""
    msg = EmailMessage()
    msg["From"] = f"Anna Berg <anna@{OUR_DOMAIN}>"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 2, 25, 8, 0, tzinfo=UTC))
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg


def _finish(msg: Message) -> bytes:
    return msg.as_bytes(policy=email.policy.SMTP)


def reply(
    body: str,
    *,
    sender: str = "Erik Lund <erik@acme.example>",
    subject: str = "Re: Quick question, Erik",
    in_reply_to: str = f"<seq-1.step-intro.42@{OUR_DOMAIN}>",
    references: str | None = None,
    date: datetime = DEFAULT_DATE,
    headers: Mapping[str, str] | None = None,
    html: str | None = None,
) -> bytes:
    """A reply written by a person (or an auto-responder, given the right headers)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = f"Anna Berg <anna@{OUR_DOMAIN}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = "<CAF=reply.123@mail.acme.example>"
    msg["In-Reply-To"] = in_reply_to
    msg["References"] = references or in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return _finish(msg)


def _compat(msg: Message) -> Message:
    """The same message as a compat32 object, so it nests inside email.mime containers."""
    return email.message_from_bytes(msg.as_bytes(policy=email.policy.SMTP))


def _fields(block: str) -> Message:
    """One block of 'Name: value' lines (a DSN/ARF field group) as the email package wants it."""
    group = Message()
    for line in block.splitlines():
        name, _, value = line.partition(": ")
        group[name] = value
    return group


def _report(report_type: str, human_text: str, headers: Mapping[str, str]) -> MIMEMultipart:
    report = MIMEMultipart("report", report_type=report_type)
    for name, value in headers.items():
        report[name] = value
    report.attach(MIMEText(human_text, "plain", "utf-8"))
    return report


def dsn(
    recipients: Iterable[tuple[str, str, str, str]],
    *,
    original: EmailMessage | None = None,
    headers_only: bool = False,
    human_text: str = "This is the mail system at host mx.kadenz.example.\n\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients.\n",
    subject: str = "Undelivered Mail Returned to Sender",
) -> bytes:
    """An RFC 3464 multipart/report; recipients are (address, action, status, diagnostic)."""
    report = _report(
        "delivery-status",
        human_text,
        {
            "From": f"MAILER-DAEMON@mx.{OUR_DOMAIN} (Mail Delivery System)",
            "To": f"anna@{OUR_DOMAIN}",
            "Subject": subject,
            "Date": format_datetime(DEFAULT_DATE),
            "Message-ID": f"<dsn.7781@mx.{OUR_DOMAIN}>",
            "Auto-Submitted": "auto-replied",
        },
    )
    blocks = [f"Reporting-MTA: dns; mx.{OUR_DOMAIN}\nArrival-Date: Fri, 27 Feb 2026 09:00:00 +0000"]
    for address, action, status, diagnostic in recipients:
        lines = [f"Final-Recipient: rfc822; {address}", f"Action: {action}", f"Status: {status}"]
        if diagnostic:
            lines.append(f"Diagnostic-Code: smtp; {diagnostic}")
        blocks.append("\n".join(lines))
    status_part = MIMEBase("message", "delivery-status")
    status_part.set_payload([_fields(block) for block in blocks])
    report.attach(status_part)
    embedded = original or our_message()
    if headers_only:
        headers = "".join(f"{k}: {v}\n" for k, v in embedded.items())
        report.attach(MIMEText(headers, "rfc822-headers", "us-ascii"))
    else:
        report.attach(MIMEMessage(_compat(embedded)))
    return _finish(report)


def arf(
    *,
    feedback_type: str = "abuse",
    original_rcpt_to: str | None = "erik@acme.example",
    original: EmailMessage | None = None,
) -> bytes:
    """An RFC 5965 feedback report (a spam complaint) about our message."""
    report = _report(
        "feedback-report",
        "This is an email abuse report for an email message received.\n",
        {
            "From": "feedback@fbl.mailprovider.example",
            "To": f"abuse@{OUR_DOMAIN}",
            "Subject": "FW: Quick question, Erik",
            "Date": format_datetime(DEFAULT_DATE),
            "Message-ID": "<arf.555@fbl.mailprovider.example>",
        },
    )
    lines = [
        f"Feedback-Type: {feedback_type}",
        "User-Agent: ExampleFBL/1.0",
        "Version: 1",
        "Source-IP: 192.0.2.1",
    ]
    if original_rcpt_to:
        lines.append(f"Original-Rcpt-To: {original_rcpt_to}")
    feedback = MIMEBase("message", "feedback-report")
    feedback.set_payload([_fields("\n".join(lines))])
    report.attach(feedback)
    report.attach(MIMEMessage(_compat(original or our_message())))
    return _finish(report)


def quoted(original_body: str, header: str) -> str:
    """`header` followed by `original_body` quoted with '> '."""
    lines = "\n".join(f"> {line}" if line else ">" for line in original_body.splitlines())
    return f"{header}\n{lines}\n"

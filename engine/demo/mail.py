"""Complete RFC 5322 messages the demo's world sends back: replies, out-of-office, DSNs."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import date, datetime
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from engine.demo.people import DemoProspect, Persona


@dataclass(frozen=True, slots=True)
class Received:
    """One of our emails as the recipient's server got it."""

    recipient: str
    sender: str  # the From address (our mailbox)
    sender_name: str
    message_id: str  # without brackets
    references: tuple[str, ...]
    subject: str
    text: str
    headers_block: str  # the original header section, for DSNs


_REPLIES: dict[tuple[Persona, str], str] = {
    (
        Persona.POSITIVE,
        "en",
    ): "Hi {sender_first},\n\nThanks for reaching out, this sounds interesting. "
    "Could you send me a few times for a call next week?\n\nBest,\n{first}",
    (
        Persona.POSITIVE,
        "de",
    ): "Hallo {sender_first},\n\ndanke für Ihre Nachricht, das klingt interessant. "
    "Gerne können wir nächste Woche einen Termin vereinbaren.\n\nViele Grüße\n{first} {last}",
    (Persona.NEGATIVE, "en"): "Hi,\n\nThanks, but we're not interested at the moment.\n\n{first}",
    (
        Persona.NEGATIVE,
        "de",
    ): "Guten Tag,\n\nvielen Dank, aber wir haben derzeit kein Interesse.\n\n"
    "Mit freundlichen Grüßen\n{first} {last}",
    (Persona.REMOVE_ME, "en"): "Please remove me from your list and stop emailing me.",
    (Persona.REMOVE_ME, "de"): "Bitte tragen Sie mich aus Ihrem Verteiler aus. "
    "Ich möchte keine weiteren E-Mails erhalten.",
    (
        Persona.REFERRAL,
        "en",
    ): "Hi,\n\nI'm not the right person for this. Please talk to my colleague "
    "{colleague}, who looks after this.\n\nCheers,\n{first}",
    (
        Persona.REFERRAL,
        "de",
    ): "Hallo,\n\ndafür bin ich nicht zuständig. Bitte wenden Sie sich an meine "
    "Kollegin {colleague}.\n\nBeste Grüße\n{first} {last}",
    (
        Persona.QUESTION,
        "en",
    ): "Hi {sender_first},\n\nHow does pricing work for a team of 12?\n\n{first}",
    (Persona.QUESTION, "de"): "Hallo {sender_first},\n\nwie sieht die Preisgestaltung für ein Team "
    "von 12 Personen aus?\n\nGruß\n{first}",
}


def _quote(received: Received, at: datetime, language: str) -> str:
    when = (
        at.strftime("%d.%m.%Y um %H:%M")
        if language == "de"
        else at.strftime("%a, %d %b %Y at %H:%M")
    )
    who = f"{received.sender_name} <{received.sender}>"
    head = f"Am {when} schrieb {who}:" if language == "de" else f"On {when}, {who} wrote:"
    quoted = "\n".join("> " + line if line else ">" for line in received.text.splitlines())
    return f"{head}\n{quoted}\n"


def _base(msg: Message, p: DemoProspect, received: Received, at: datetime, subject: str) -> None:
    msg["From"] = email.utils.formataddr((f"{p.first_name} {p.last_name}", p.email))
    msg["To"] = email.utils.formataddr((received.sender_name, received.sender))
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(at)
    msg["Message-ID"] = email.utils.make_msgid(domain=p.email.split("@")[1])


def human_reply(p: DemoProspect, received: Received, sent_at: datetime, at: datetime) -> bytes:
    """A person's reply, threaded, with the quoted history below it."""
    colleague = f"j.doe@{p.email.split('@')[1]}"
    body = _REPLIES[(p.persona, p.language)].format(
        first=p.first_name,
        last=p.last_name,
        colleague=colleague,
        sender_first=received.sender_name.split()[0],
    )
    text = f"{body}\n\n{_quote(received, sent_at, p.language)}"
    msg = MIMEText(text, "plain", "utf-8")
    subject = (
        received.subject
        if received.subject.lower().startswith(("re:", "aw:"))
        else (("AW: " if p.language == "de" else "Re: ") + received.subject)
    )
    _base(msg, p, received, at, subject)
    msg["In-Reply-To"] = f"<{received.message_id}>"
    msg["References"] = " ".join(f"<{r}>" for r in (*received.references, received.message_id))
    return msg.as_bytes()


def out_of_office(p: DemoProspect, received: Received, back: date, at: datetime) -> bytes:
    """An RFC 3834 auto-reply with a stated return date, as Exchange or Gmail would send."""
    if p.language == "de":
        subject = f"Abwesenheitsnotiz: {received.subject}"
        text = (
            f"Vielen Dank für Ihre Nachricht. Ich bin bis zum {back:%d.%m.%Y} nicht im Büro "
            "und habe nur eingeschränkt Zugriff auf meine E-Mails.\n\n"
            f"Mit freundlichen Grüßen\n{p.first_name} {p.last_name}"
        )
    else:
        subject = f"Automatic reply: {received.subject}"
        text = (
            f"Thank you for your email. I am out of the office until {back:%d %B %Y} "
            "with limited access to email. I will respond when I return.\n\n"
            f"{p.first_name}"
        )
    msg = MIMEText(text, "plain", "utf-8")
    _base(msg, p, received, at, subject)
    msg["In-Reply-To"] = f"<{received.message_id}>"
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    return msg.as_bytes()


def delivery_failure(p: DemoProspect, received: Received, status: str, at: datetime) -> bytes:
    """An RFC 3464 delivery status notification from the recipient's MTA (Postfix style)."""
    domain = p.email.split("@")[1]
    diagnostic = (
        "550 5.1.1 <{0}>: Recipient address rejected: User unknown in virtual mailbox table"
        if status == "5.1.1"
        else "552 5.2.2 <{0}>: Mailbox full, quota exceeded"
    ).format(p.email)
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = f"MAILER-DAEMON@mx.{domain} (Mail Delivery System)"
    report["To"] = received.sender
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = email.utils.format_datetime(at)
    report["Message-ID"] = email.utils.make_msgid(domain=f"mx.{domain}")
    report["Auto-Submitted"] = "auto-replied"
    report.attach(
        MIMEText(
            f"This is the mail system at host mx.{domain}.\n\nI'm sorry to have to inform you that "
            "your message could not be delivered to one or more recipients.\n\n"
            f"<{p.email}>: {diagnostic}\n",
            "plain",
            "utf-8",
        )
    )
    # message/delivery-status holds header blocks: one per message, then one per recipient.
    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; mx.{domain}"
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {p.email}"
    per_recipient["Original-Recipient"] = f"rfc822; {p.email}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    status_part = MIMEBase("message", "delivery-status")
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    headers = MIMEBase("text", "rfc822-headers")
    headers.set_payload(received.headers_block)
    report.attach(headers)
    return report.as_bytes()

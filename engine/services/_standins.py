"""TEMPORARY stand-ins for the schedule/spec/mail contracts until those branches land.

Only `engine.services.runtime` imports this module; it is deleted when the real modules are
merged. Behaviour follows the promised contracts closely enough for the sending tests.
"""

from __future__ import annotations

import hashlib
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import aiosmtplib
import holidays
import jinja2
from jinja2.sandbox import SandboxedEnvironment

from engine.errors import KadenzError
from engine.schedule.types import Duration, DurationUnit, WeeklyWindow

# --- spec ---------------------------------------------------------------------------------


@dataclass
class ScheduleSpec:
    timezone: str = "prospect"
    fallback_timezone: str | None = None
    window: str | None = "Mon-Fri 09:00-17:00"
    cron: str | None = None
    holidays: str | None = None
    extra_holidays: list[str] = field(default_factory=list)
    skip_holidays: bool = True


@dataclass
class Variant:
    subject: str | None = None
    template: str | None = None
    body: str | None = None
    weight: int = 1


@dataclass
class Step:
    id: str
    type: str
    subject: str | None = None
    template: str | None = None
    body: str | None = None
    variants: dict[str, Variant] = field(default_factory=dict)
    thread: str = "new"
    duration: Duration | None = None
    title: str | None = None
    notes: str | None = None
    due: Duration | None = None
    blocking: bool = False

    def variant_names(self) -> list[str]:
        return list(self.variants)


@dataclass
class SequenceSpec:
    key: str
    name: str
    mailboxes: list[str]
    schedule: ScheduleSpec
    stop_on: list[str]
    steps: list[Step]


def _duration(value: Any) -> Duration | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return Duration(int(value["amount"]), DurationUnit(value["unit"]))
    return Duration.parse(str(value))


def spec_from_json(data: Mapping[str, Any]) -> SequenceSpec:
    steps = []
    for raw in data.get("steps", []):
        variants = {
            k: Variant(**{f: v.get(f) for f in ("subject", "template", "body")})
            for k, v in (raw.get("variants") or {}).items()
        }
        steps.append(
            Step(
                id=raw["id"],
                type=raw["type"],
                subject=raw.get("subject"),
                template=raw.get("template"),
                body=raw.get("body"),
                variants=variants,
                thread=raw.get("thread") or "new",
                duration=_duration(raw.get("duration")),
                title=raw.get("title"),
                notes=raw.get("notes"),
                due=_duration(raw.get("due")),
                blocking=bool(raw.get("blocking", False)),
            )
        )
    sched = dict(data.get("schedule") or {})
    return SequenceSpec(
        key=data["key"],
        name=data.get("name", data["key"]),
        mailboxes=list(data.get("mailboxes", [])),
        schedule=ScheduleSpec(**sched),
        stop_on=list(data.get("stop_on", [])),
        steps=steps,
    )


# --- render -------------------------------------------------------------------------------


class MissingVariable(KadenzError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(f"missing variable: {', '.join(names)}")


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str | None = None


class Renderer:
    def __init__(self, templates: Mapping[str, str]) -> None:
        self._env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined, loader=jinja2.DictLoader(dict(templates))
        )

    def render_text(self, source: str, context: Mapping[str, Any]) -> str:
        try:
            return self._env.from_string(source).render(dict(context))
        except jinja2.UndefinedError as exc:
            name = str(exc.message or "").split("'")[1] if "'" in str(exc.message) else "?"
            raise MissingVariable([name]) from None

    def render_email(
        self, step: Step, variant: str | None, context: Mapping[str, Any]
    ) -> RenderedEmail:
        chosen = step.variants.get(variant or "") if variant else None
        subject = (chosen.subject if chosen else None) or step.subject or ""
        template = (chosen.template if chosen else None) or step.template
        body = (chosen.body if chosen else None) or step.body or ""
        if template:
            body = self._env.loader.get_source(self._env, template)[0]  # type: ignore[union-attr]
        return RenderedEmail(self.render_text(subject, context), self.render_text(body, context))


def prospect_context(prospect: Mapping[str, Any], sender: Mapping[str, Any]) -> dict[str, Any]:
    ctx = {k: v for k, v in prospect.items() if v not in (None, "")}
    ctx.update(prospect.get("custom") or {})
    ctx["sender"] = dict(sender)
    return ctx


# --- schedule -----------------------------------------------------------------------------


class BusinessCalendar:
    def __init__(self, region: str | None, extra: list[str]) -> None:
        self.region = region
        self.extra = {date.fromisoformat(d) for d in extra}
        self._hol: Any = None
        if region:
            country, _, sub = region.partition("-")
            self._hol = holidays.country_holidays(country, subdiv=sub or None)

    @classmethod
    def from_region(cls, region: str | None, extra: list[str]) -> BusinessCalendar:
        return cls(region, extra)

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra:
            return "extra holiday"
        if self._hol is not None and day in self._hol:
            return str(self._hol.get(day))
        return None

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None


@dataclass
class SendPolicy:
    window: WeeklyWindow
    calendar: BusinessCalendar
    skip_holidays: bool = True


@dataclass
class Slot:
    at: datetime
    local: datetime
    timezone: str
    reasons: list[str]


def resolve_timezone(
    prospect_tz: str | None, sequence_tz: str | None, mailbox_tz: str | None
) -> tuple[ZoneInfo, str]:
    for name, source in (
        (prospect_tz, "prospect timezone"),
        (sequence_tz, "sequence timezone"),
        (mailbox_tz, "mailbox timezone"),
    ):
        if name:
            return ZoneInfo(name), source
    return ZoneInfo("UTC"), "default UTC"


def add_wait(start: datetime, wait: Duration, tz: ZoneInfo, calendar: BusinessCalendar) -> datetime:
    if wait.unit is DurationUnit.MINUTES:
        return start + timedelta(minutes=wait.amount)
    if wait.unit is DurationUnit.HOURS:
        return start + timedelta(hours=wait.amount)
    local = start.astimezone(tz)
    day = local.date()
    if wait.unit is DurationUnit.DAYS:
        day += timedelta(days=wait.amount)
    else:
        n = wait.amount
        while n:
            day += timedelta(days=1)
            if calendar.is_business_day(day):
                n -= 1
    return datetime.combine(day, local.time().replace(tzinfo=None), tz).astimezone(UTC)


def _jitter(key: str | None, span: int) -> int:
    if not key or span <= 0:
        return 0
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % span


def next_slot(
    earliest: datetime, policy: SendPolicy, tz: ZoneInfo, *, spread_key: str | None = None
) -> Slot:
    local = earliest.astimezone(tz)
    reasons: list[str] = []
    for offset in range(0, 400):
        day = local.date() + timedelta(days=offset)
        name = policy.calendar.holiday_name(day) if policy.skip_holidays else None
        if name:
            reasons.append(f"{day.isoformat()} {name} holiday")
            continue
        for rng in policy.window.days[day.weekday()]:
            start = datetime.combine(day, rng.start, tz)
            end_t = rng.end if rng.end != time.max else time(23, 59)
            end = datetime.combine(day, end_t, tz)
            lower = max(start, local) if offset == 0 else start
            if lower >= end:
                continue
            minutes = int((end - lower).total_seconds() // 60)
            pick = lower + timedelta(minutes=_jitter(spread_key, min(minutes, 15)))
            if pick != local:
                reasons.append(f"window {policy.window}")
            at = pick.astimezone(UTC)
            return Slot(at, at.astimezone(tz), str(tz), reasons)
    raise ValueError("no allowed send time within 400 days")


def is_allowed(instant: datetime, policy: SendPolicy, tz: ZoneInfo) -> bool:
    local = instant.astimezone(tz)
    if policy.skip_holidays and policy.calendar.holiday_name(local.date()):
        return False
    t = local.time().replace(tzinfo=None)
    return any(r.start <= t < r.end for r in policy.window.days[local.weekday()])


def explain(slot: Slot) -> str:
    why = "; ".join(slot.reasons) or "window open"
    return f"{slot.local.strftime('%Y-%m-%d %H:%M')} {slot.timezone}: {why}"


# --- mail ---------------------------------------------------------------------------------


@dataclass
class OutgoingEmail:
    from_address: str
    from_name: str | None
    to_address: str
    to_name: str | None
    subject: str
    text: str
    html: str | None
    message_id: str
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    footer_text: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    date: datetime | None = None


def new_message_id(domain: str, unique: str | None = None) -> str:
    return f"{unique or secrets.token_hex(12)}@{domain}"


def build_mime(email: OutgoingEmail) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr((email.from_name or "", email.from_address))
    msg["To"] = formataddr((email.to_name or "", email.to_address))
    msg["Subject"] = email.subject
    msg["Message-ID"] = f"<{email.message_id}>"
    msg["Date"] = format_datetime(email.date or datetime.now(UTC))
    if email.in_reply_to:
        msg["In-Reply-To"] = f"<{email.in_reply_to}>"
    if email.references:
        msg["References"] = " ".join(f"<{r}>" for r in email.references)
    links = []
    if email.unsubscribe_url:
        links.append(f"<{email.unsubscribe_url}>")
    if email.unsubscribe_mailto:
        links.append(f"<mailto:{email.unsubscribe_mailto}>")
    if links:
        msg["List-Unsubscribe"] = ", ".join(links)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    body = email.text + (f"\n\n--\n{email.footer_text}\n" if email.footer_text else "")
    msg.set_content(body)
    return msg.as_bytes()


@dataclass
class Endpoint:
    host: str
    port: int
    security: str
    username: str | None


def parse_smtp_url(url: str) -> Endpoint:
    parts = urlsplit(url)
    security = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}[parts.scheme]
    port = parts.port or {"plain": 25, "starttls": 587, "tls": 465}[security]
    user = unquote(parts.username) if parts.username else None
    return Endpoint(parts.hostname or "localhost", port, security, user)


class SendOutcome(StrEnum):
    ACCEPTED = "accepted"
    RETRY = "retry"
    REJECTED = "rejected"
    AMBIGUOUS = "ambiguous"
    MAILBOX_ERROR = "mailbox_error"


@dataclass
class SendResult:
    outcome: SendOutcome
    code: int | None = None
    status: str | None = None
    message: str = ""


def _status(text: str) -> str | None:
    head = text.split(" ", 1)[0]
    return head if head.count(".") == 2 and head[0] in "245" else None


class SmtpSender:
    def __init__(
        self,
        endpoint: Endpoint,
        *,
        password: str | None = None,
        timeout: float = 30.0,
        data_timeout: float = 120.0,
    ) -> None:
        self.endpoint = endpoint
        self.password = password
        self.timeout = timeout
        self.data_timeout = data_timeout
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> SmtpSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except Exception:
                self._client.close()
        self._client = None

    async def _connect(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        ep = self.endpoint
        client = aiosmtplib.SMTP(
            hostname=ep.host,
            port=ep.port,
            timeout=self.timeout,
            use_tls=ep.security == "tls",
            start_tls=ep.security == "starttls",
            tls_context=ssl.create_default_context(),
        )
        await client.connect()
        if ep.username and self.password:
            await client.login(ep.username, self.password)
        self._client = client
        return client

    async def send(self, envelope_from: str, recipient: str, data: bytes) -> SendResult:
        try:
            client = await self._connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            return SendResult(SendOutcome.MAILBOX_ERROR, exc.code, None, exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return SendResult(SendOutcome.RETRY, None, None, str(exc))
        try:
            await client.mail(envelope_from)
            await client.rcpt(recipient)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            kind = SendOutcome.RETRY if exc.code < 500 else SendOutcome.REJECTED
            return SendResult(kind, exc.code, _status(exc.message), exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._drop()
            return SendResult(SendOutcome.RETRY, None, None, str(exc))
        try:
            resp = await client.data(data, timeout=self.data_timeout)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            kind = SendOutcome.RETRY if exc.code < 500 else SendOutcome.REJECTED
            return SendResult(kind, exc.code, _status(exc.message), exc.message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self._drop()
            return SendResult(SendOutcome.AMBIGUOUS, None, None, str(exc) or type(exc).__name__)
        return SendResult(SendOutcome.ACCEPTED, resp.code, _status(resp.message), resp.message)

    async def _reset(self) -> None:
        try:
            if self._client is not None:
                await self._client.rset()
        except Exception:
            self._drop()

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

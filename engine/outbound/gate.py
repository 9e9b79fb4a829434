"""Deliverability and consent in the send path: the two hooks `send.py` calls.

1. `prepare` (before the claim, outside any transaction): re-checks the DNS of sending
   domains whose check is stale, and wraps the mailer factory so that every message of a
   domain with an active DKIM key is signed — once, right before its SMTP transaction, so
   the bytes signed are the bytes sent (embedded `kadenz run`, Celery and `simulate` alike).
2. `Gate.check` (inside the claim, per message): may this email leave at all? Held when the
   sending domain fails a hard DNS check (unless overridden), when the prospect's
   jurisdiction needs consent they have not given (docs/compliance.md), or when the policy
   requires a postal address and none is configured.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import KadenzError
from engine.mail import dkim
from engine.mail.smtp import BeforeData, Mailer, SendOutcome, SendResult, go_ahead
from engine.people import consent, consent_records
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox, OutboundMessage, SendingDomain
from engine.workspace import domain_checks, domains

log = logging.getLogger(__name__)

DOMAIN_RECHECK = timedelta(minutes=15)  # a held message looks again this soon
CONSENT_RECHECK = timedelta(days=1)  # recording consent releases it at once (consent_records)
POSTAL_RECHECK = timedelta(hours=1)


# --- 1. before the claim: stale checks, DKIM signing ----------------------------------------


def prepare(db: Database, clock: Clock, settings: Settings, factory: Any) -> Any:
    """Refresh stale domain checks; the factory, wrapped to sign when any key is active."""
    with db.session() as session:
        domain_checks.refresh_stale(session, settings, clock.now())
        keys = domains.active_keys(session)
    if not keys:
        return factory
    ring = KeyRing(keys)

    @asynccontextmanager
    async def signing(mailbox: Mailbox, password: str | None) -> AsyncIterator[Mailer]:
        async with factory(mailbox, password) as mailer:
            yield SigningMailer(mailer, ring)

    return signing


def signing_domain(address_domain: str, registered: Any) -> str | None:
    """The registered domain that signs for a From domain: itself, else its nearest parent."""
    labels = address_domain.lower().split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in registered:
            return candidate
    return None


class KeyRing:
    """Active keys by domain, each read from its file or variable once per send round."""

    def __init__(self, refs: dict[str, tuple[str, str | None, str | None]]) -> None:
        self.refs = refs
        self._loaded: dict[str, dkim.SigningKey | KadenzError] = {}

    def key_for(self, from_address: str) -> dkim.SigningKey | None:
        domain = signing_domain(from_address.rpartition("@")[2], self.refs)
        if domain is None:
            return None
        if domain not in self._loaded:
            selector, key_file, key_env = self.refs[domain]
            try:
                self._loaded[domain] = domains.load(domain, selector, key_file, key_env)
            except KadenzError as exc:
                log.error("dkim.key_unreadable domain=%s problem=%r", domain, str(exc))
                self._loaded[domain] = exc
        found = self._loaded[domain]
        if isinstance(found, KadenzError):
            raise found
        return found


@dataclass
class SigningMailer:
    inner: Mailer
    ring: KeyRing

    async def send(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        try:
            key = self.ring.key_for(envelope_from)
        except KadenzError as exc:
            # Never unsigned by accident: the mailbox pauses with the fix in its reason.
            return SendResult(SendOutcome.MAILBOX_ERROR, None, None, f"DKIM: {exc}")
        if key is not None:
            data = dkim.sign(_crlf(data), key)
        return await self.inner.send(envelope_from, recipient, data, before_data=before_data)


def _crlf(data: bytes) -> bytes:
    """SMTP line endings before signing, so the SMTP client changes no byte it was given."""
    if b"\n" in data.replace(b"\r\n", b""):
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


# --- 2. inside the claim: may this email leave? ----------------------------------------------


@dataclass(frozen=True)
class Held:
    reason: str
    until: datetime
    skip: bool = False  # consent policy `skip_email`: cancel it, the sequence goes on


@dataclass
class Gate:
    domains: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    policy: consent.Policy | None = None
    facts: dict[int, consent.Facts] = field(default_factory=dict)
    postal_address: str = ""

    @classmethod
    def load(cls, session: Session, due: list[OutboundMessage], settings: Settings) -> Gate:
        """What `check` reads for the whole claim, in at most three queries."""
        if not due:
            return cls()
        rows = session.execute(
            select(
                SendingDomain.domain,
                SendingDomain.check_status,
                SendingDomain.check_findings,
                SendingDomain.override_reason,
            )
        ).all()
        registered = {r[0]: (r[1], _first_failure(r[2]), r[3]) for r in rows}
        policy = consent_records.load(session)
        facts = consent_records.facts(session, {m.prospect_id for m in due}) if policy else {}
        return cls(registered, policy, facts, settings.postal_address)

    def check(self, message: OutboundMessage, now: datetime) -> Held | None:
        domain = signing_domain(message.from_address.rpartition("@")[2], self.domains)
        if domain is not None:
            status, failure, override = self.domains[domain]
            if status == domain_checks.FAIL and not override:
                return Held(
                    f"sending domain {domain} fails its DNS checks: {failure} (see: kadenz "
                    f"domain check {domain}; to send anyway: kadenz domain override {domain} "
                    "--reason …)",
                    now + DOMAIN_RECHECK,
                )
        if self.policy is None:
            return None
        facts = self.facts.get(message.prospect_id)
        if facts is None:
            return None
        decision = consent.decide(self.policy, facts)
        if not decision.allowed:
            skip = self.policy.without_consent == consent.WithoutConsent.SKIP_EMAIL
            return Held(decision.reason, now + CONSENT_RECHECK, skip=skip)
        country, _ = consent.jurisdiction(facts)
        if self.policy.needs_postal_address(country) and not self.postal_address.strip():
            return Held(
                f"postal address: the consent policy requires a postal address in emails to "
                f"{country or 'every country'} (CAN-SPAM); set KADENZ_POSTAL_ADDRESS",
                now + POSTAL_RECHECK,
            )
        return None


def _first_failure(findings: list[dict[str, Any]]) -> str:
    for f in findings or []:
        if f.get("level") == domain_checks.FAIL:
            fix = f" — fix: {f['fix']}" if f.get("fix") else ""
            return f"{f.get('check')}: {f.get('message')}{fix}"
    return "see the last check"


def continue_without(session: Session, message: OutboundMessage, now: datetime) -> None:
    """The email was skipped for consent: the enrollment goes on to its next step now."""
    enrollment = session.get(Enrollment, message.enrollment_id)
    if enrollment is not None and enrollment.next_run_at is None:
        enrollment.step_started_at = now
        enrollment.next_run_at = now
        enrollment.updated_at = now

"""`kadenz domain check`: does DNS say what receivers need to trust mail from a domain?

Gmail's and Yahoo's sender rules (2024) and RFC 7208/6376/7489 decide the checks:

- spf: hard when there is no SPF record, several, or one that does not permit a
  resolvable SMTP host; a warning when a host does not resolve or a term cannot be judged.
- dkim: hard when the active selector's record is missing or is not our public key; a
  warning when a pending key is not published yet.
- dmarc: hard when there is no DMARC record; `p=none` (monitoring only) is a warning.
- mx: a warning when there is none (bounces and replies to the domain cannot arrive).
- alignment: hard when DMARC would not align a mailbox's From domain with our DKIM d=.

A lookup that could not be made (timeout, SERVFAIL) is `unknown`, never a missing record.
Results are stored on the domain; the sender refuses a domain whose stored status is `fail`
unless a person overrode it (`kadenz domain override`).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.mail import dkim, spf
from engine.mail.resolver import DnsUnavailable, Resolver
from engine.mail.urls import parse_smtp_url
from engine.settings import Settings
from engine.store.models import Mailbox, SendingDomain
from engine.workspace import domains

log = logging.getLogger(__name__)

OK, WARNING, FAIL, UNKNOWN = "ok", "warning", "fail", "unknown"
_RANK = {OK: 0, WARNING: 1, UNKNOWN: 2, FAIL: 3}


@dataclass(frozen=True)
class Finding:
    check: str  # spf | dkim | dmarc | mx | alignment | dns
    level: str  # ok | warning | fail | unknown
    message: str
    fix: str = ""


def resolver_for(settings: Settings) -> Resolver:
    return Resolver(settings.dns_nameservers, settings.dns_timeout)


def status_of(findings: list[Finding]) -> str:
    worst = max((_RANK[f.level] for f in findings), default=0)
    return next(level for level, rank in _RANK.items() if rank == worst)


def check(session: Session, resolver: Resolver, domain: str) -> list[Finding]:
    """Every check of one registered domain (read-only: `check_and_store` keeps the result)."""
    row = domains.get(session, domain)
    boxes = _mailboxes_of(session, row.domain)
    findings: list[Finding] = []
    for one in (_spf, _dkim, _dmarc, _mx, _alignment):
        try:
            findings.extend(one(session, resolver, row, boxes))
        except DnsUnavailable as exc:
            findings.append(Finding(one.__name__.strip("_"), UNKNOWN, str(exc)))
    return findings


def check_and_store(
    session: Session, resolver: Resolver, domain: str, at: datetime
) -> tuple[SendingDomain, list[Finding]]:
    findings = check(session, resolver, domain)
    row = domains.get(session, domain)
    row.check_status = status_of(findings)
    row.check_findings = [asdict(f) for f in findings]
    row.checked_at = at
    for f in findings:
        if f.level in (FAIL, UNKNOWN):
            # One line per problem, with its fix: nothing about a domain fails silently.
            log.error(
                "domain.check domain=%s check=%s level=%s problem=%r fix=%r",
                row.domain, f.check, f.level, f.message, f.fix,
            )  # fmt: skip
    session.flush()
    return row, findings


def refresh_stale(session: Session, settings: Settings, at: datetime) -> int:
    """Re-check every domain whose last check is older than KADENZ_DOMAIN_CHECK_HOURS."""
    cutoff = at - timedelta(hours=settings.domain_check_hours)
    stale = session.scalars(
        select(SendingDomain.domain).where(
            (SendingDomain.checked_at.is_(None)) | (SendingDomain.checked_at < cutoff)
        )
    ).all()
    if not stale:
        return 0
    resolver = resolver_for(settings)
    for name in stale:
        check_and_store(session, resolver, name, at)
    return len(stale)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _mailboxes_of(session: Session, domain: str) -> list[Mailbox]:
    """Mailboxes whose From address is at `domain` or one of its subdomains."""
    boxes = session.scalars(select(Mailbox).order_by(Mailbox.name)).all()
    return [m for m in boxes if _within(m.address.rpartition("@")[2].lower(), domain)]


def _within(name: str, domain: str) -> bool:
    return name == domain or name.endswith("." + domain)


def _spf(
    session: Session, resolver: Resolver, row: SendingDomain, boxes: list[Mailbox]
) -> list[Finding]:
    records = spf.spf_records(resolver, row.domain)
    fix_add = f'publish a TXT record at {row.domain}: "v=spf1 include:<your provider> -all"'
    if not records:
        return [Finding("spf", FAIL, f"{row.domain} has no SPF record", fix_add)]
    if len(records) > 1:
        return [
            Finding(
                "spf",
                FAIL,
                f"{row.domain} has {len(records)} SPF records; receivers treat that as an error",
                "merge them into one v=spf1 record",
            )
        ]
    out: list[Finding] = []
    hosts = sorted({parse_smtp_url(m.smtp_url).host for m in boxes})
    for host in hosts:
        ips = [host] if _is_ip(host) else resolver.addresses(host)
        if not ips:
            out.append(
                Finding("spf", WARNING, f"SMTP host {host} does not resolve; coverage not checked")
            )
            continue
        for ip in ips:
            verdict = spf.permits(resolver, row.domain, ip)
            if verdict.result == "pass":
                continue
            if verdict.result == "unknown":
                out.append(
                    Finding("spf", WARNING, f"cannot tell if SPF permits {host} ({ip}): "
                            f"{verdict.detail}")
                )  # fmt: skip
                continue
            out.append(
                Finding(
                    "spf",
                    FAIL,
                    f"the SPF record of {row.domain} does not permit our SMTP host {host} "
                    f"({ip}): {verdict.result}, {verdict.detail}",
                    f"add ip{'6' if ':' in ip else '4'}:{ip} (or your provider's include:) "
                    f"to the SPF record of {row.domain}",
                )
            )
    if not out:
        covered = f", covers {', '.join(hosts)}" if hosts else ""
        out.append(Finding("spf", OK, f"SPF record present{covered}: {records[0]}"))
    return out


def _dkim(
    session: Session, resolver: Resolver, row: SendingDomain, boxes: list[Mailbox]
) -> list[Finding]:
    out: list[Finding] = []
    live = [k for k in domains.keys_of(session, row) if k.state != domains.RETIRED]
    if not live:
        return [Finding("dkim", FAIL, f"{row.domain} has no DKIM key",
                        f"kadenz domain rotate {row.domain} --selector NEW")]  # fmt: skip
    for key in live:
        name = dkim.record_name(row.domain, key.selector)
        published = [p for p in (dkim.public_key_of(t) for t in resolver.txt(name)) if p]
        level = FAIL if key.state == domains.ACTIVE else WARNING
        publish = f'publish TXT {name}: "{dkim.record_value(key.public_key)}"'
        if not published:
            out.append(Finding("dkim", level, f"no DKIM record at {name}", publish))
        elif key.public_key not in published:
            out.append(
                Finding(
                    "dkim",
                    level,
                    f"the DKIM record at {name} is not our key (it publishes another public key)",
                    f"replace it: {publish}",
                )
            )
        else:
            out.append(Finding("dkim", OK, f"{name} publishes our {key.state} key"))
    return out


def serves_key(resolver: Resolver, domain: str, selector: str, public_key: str) -> bool:
    found = resolver.txt(dkim.record_name(domain, selector))
    return public_key in [dkim.public_key_of(t) for t in found]


def dmarc_record(resolver: Resolver, domain: str) -> tuple[str, str] | None:
    """(where, record) for `domain`, falling back to its parent domains (RFC 7489 6.6.3)."""
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        where = ".".join(labels[i:])
        for text in resolver.txt(f"_dmarc.{where}"):
            if text.replace(" ", "").lower().startswith("v=dmarc1"):
                return where, text
    return None


def dmarc_tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, _, value = part.partition("=")
        if name.strip():
            tags[name.strip().lower()] = value.strip()
    return tags


def _dmarc(
    session: Session, resolver: Resolver, row: SendingDomain, boxes: list[Mailbox]
) -> list[Finding]:
    found = dmarc_record(resolver, row.domain)
    if found is None:
        return [
            Finding(
                "dmarc",
                FAIL,
                f"{row.domain} has no DMARC record (_dmarc.{row.domain})",
                f'publish TXT _dmarc.{row.domain}: "v=DMARC1; p=none; rua=mailto:dmarc@'
                f'{row.domain}", then tighten to p=quarantine',
            )
        ]
    where, record = found
    policy = dmarc_tags(record).get("p", "").lower()
    if policy == "none":
        return [
            Finding(
                "dmarc",
                WARNING,
                f"DMARC policy of {where} is p=none: monitoring only, receivers are not asked "
                "to act on failing mail",
                "once reports show all your mail aligned, move to p=quarantine or p=reject",
            )
        ]
    if policy not in ("quarantine", "reject"):
        return [Finding("dmarc", FAIL, f"DMARC record of {where} has no valid p= tag: {record}",
                        "set p=none, p=quarantine or p=reject")]  # fmt: skip
    return [Finding("dmarc", OK, f"DMARC p={policy} at _dmarc.{where}")]


def _mx(
    session: Session, resolver: Resolver, row: SendingDomain, boxes: list[Mailbox]
) -> list[Finding]:
    hosts = resolver.mx(row.domain)
    if not hosts or all(h in ("", ".") for _, h in hosts):
        return [
            Finding(
                "mx",
                WARNING,
                f"{row.domain} has no MX record: bounces and replies to it cannot arrive",
                f"publish an MX record for {row.domain} pointing at your mail provider",
            )
        ]
    return [Finding("mx", OK, "MX " + ", ".join(h for _, h in hosts))]


def _alignment(
    session: Session, resolver: Resolver, row: SendingDomain, boxes: list[Mailbox]
) -> list[Finding]:
    """We sign with d=<the registered domain>; DMARC aligns it with each From domain."""
    if not boxes:
        return [Finding("alignment", WARNING, f"no mailbox sends from {row.domain} yet")]
    found = dmarc_record(resolver, row.domain)
    strict = found is not None and dmarc_tags(found[1]).get("adkim", "r").lower() == "s"
    out: list[Finding] = []
    for box in boxes:
        from_domain = box.address.rpartition("@")[2].lower()
        if from_domain != row.domain and strict:
            out.append(
                Finding(
                    "alignment",
                    FAIL,
                    f"mailbox {box.name} sends From {from_domain}, but DMARC adkim=s needs "
                    f"d={from_domain} exactly (we sign with d={row.domain})",
                    f"kadenz domain add {from_domain}",
                )
            )
    if not out:
        names = ", ".join(b.name for b in boxes)
        out.append(Finding("alignment", OK, f"From of {names} aligns with d={row.domain}"))
    return out

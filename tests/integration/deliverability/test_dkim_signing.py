"""DKIM end to end: `kadenz domain add` prints a record, a real DNS server serves it, a message
sent through the real send path to a real SMTP server verifies with dkimpy's verifier."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import dkim
import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import Clock, VirtualClock
from engine.core.states import MessageState
from engine.mail.resolver import Resolver, get_txt_for_dkim
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import DkimKey, Mailbox, OutboundMessage
from tests.integration.sending.factory import build_world
from tests.support.dns_server import DnsServer
from tests.support.smtp_server import SmtpSink

GOOD_ZONE = """
@        TXT "v=spf1 ip4:127.0.0.1 -all"
@        MX 10 mail
mail     A 127.0.0.1
_dmarc   TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.example"
"""


def invoke(settings: Settings, db: Database, *args: str, clock: Clock | None = None) -> Result:
    """`kadenz ARGS` in this process, on the test's database, settings (and clock)."""
    ctx = Context(settings=settings.model_copy(update={"database_url": db.url}))
    if clock is not None:
        ctx.clock = clock
    ctx.__dict__["db"] = db  # the cached property: the test's engine, disposed by its fixture
    return CliRunner().invoke(app, list(args), obj=ctx)


def kadenz(settings: Settings, db: Database, *args: str, clock: Clock | None = None) -> str:
    result = invoke(settings, db, *args, clock=clock)
    assert result.exit_code == 0, result.output
    return result.output


def published_record(output: str) -> str:
    """The zone-file line `kadenz domain add` printed."""
    lines = output.splitlines()
    return lines[lines.index("zone-file form:") + 1].strip()


def publish(dns: DnsServer, *records: str) -> None:
    dns.zone("acme.example", "\n".join([GOOD_ZONE, *records]))


def world(db: Database, clock: VirtualClock, sink: SmtpSink) -> None:
    """Mailbox anna@acme.example on the SMTP sink, one enrolled prospect."""
    with db.session() as s:
        build_world(s, clock.now(), ["erik@beta.example"], smtp_url=sink.url)


def send_one(db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink) -> bytes:
    tick(db, clock, settings)
    report = send_due(db, clock, settings)
    assert report.sent == 1, report.summary()
    return sink.messages[-1].data


def verify(data: bytes, dns: DnsServer) -> bool:
    return bool(dkim.verify(data, dnsfunc=get_txt_for_dkim(Resolver(dns.nameserver, 2.0))))


def test_a_sent_message_verifies_against_the_printed_record(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, dns: DnsServer
) -> None:
    out = kadenz(settings, db, "domain", "add", "acme.example", "--selector", "k2026")
    assert "k2026._domainkey.acme.example" in out and "v=DKIM1; k=rsa; p=" in out
    publish(dns, published_record(out))
    world(db, clock, sink)
    assert "acme.example: ok" in kadenz(settings, db, "domain", "check", "acme.example")

    data = send_one(db, clock, settings, sink)

    assert data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=acme.example")
    assert verify(data, dns)
    assert ("k2026._domainkey.acme.example", "TXT") in dns.queries
    # the signature covers what matters: a changed subject no longer verifies
    assert not verify(data.replace(b"Subject: Quick question", b"Subject: Quick questiom"), dns)


def test_the_key_is_kept_0600_and_never_in_the_database(
    db: Database, clock: VirtualClock, settings: Settings, dns: DnsServer
) -> None:
    kadenz(settings, db, "domain", "add", "acme.example", "--selector", "k2026")
    with db.session() as s:
        key = s.scalars(select(DkimKey)).one()
        assert key.key_file is not None and key.key_env is None
        path = Path(key.key_file)
        columns = [str(getattr(key, c.name)) for c in DkimKey.__table__.columns]
    assert path.is_relative_to(settings.home.resolve())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = path.read_text()
    body = "".join(pem.strip().splitlines()[1:-1])
    assert not any(body[:40] in value for value in columns)


def test_rotation_signs_with_the_new_selector_only_after_activate(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, dns: DnsServer
) -> None:
    first = published_record(
        kadenz(settings, db, "domain", "add", "acme.example", "--selector", "k1")
    )
    second = published_record(
        kadenz(settings, db, "domain", "rotate", "acme.example", "--selector", "k2")
    )
    publish(dns, first)  # k2 not yet published: activation is refused
    refused = invoke(settings, db, "domain", "activate", "acme.example", "k2")
    assert refused.exit_code == 1 and "does not serve the key" in refused.output
    publish(dns, first, second)
    kadenz(settings, db, "domain", "activate", "acme.example", "k2")
    world(db, clock, sink)
    kadenz(settings, db, "domain", "check", "acme.example")

    data = send_one(db, clock, settings, sink)
    assert b"s=k2;" in data.split(b"\r\n\r\n")[0].replace(b"\r\n", b"").replace(b" ", b"")
    assert verify(data, dns)


def test_a_key_from_the_environment_signs_and_a_missing_one_pauses_the_mailbox(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    sink: SmtpSink,
    dns: DnsServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pem_file = tmp_path / "operator.pem"
    os.system(f"openssl genrsa -out {pem_file} 2048 2>/dev/null")  # the operator's own key
    monkeypatch.setenv("ACME_DKIM_KEY", pem_file.read_text())
    out = kadenz(
        settings, db, "domain", "add", "acme.example", "--selector", "env1",
        "--key-env", "ACME_DKIM_KEY",
    )  # fmt: skip
    assert "$ACME_DKIM_KEY" in out
    publish(dns, published_record(out))
    world(db, clock, sink)
    kadenz(settings, db, "domain", "check", "acme.example")

    monkeypatch.delenv("ACME_DKIM_KEY")
    tick(db, clock, settings)
    report = send_due(db, clock, settings)
    assert report.sent == 0 and sink.messages == []  # never sent unsigned
    with db.session() as s:
        box = s.scalars(select(Mailbox)).one()
        message = s.scalars(select(OutboundMessage)).one()
        assert box.paused and "ACME_DKIM_KEY is not set" in (box.paused_reason or "")
        assert message.state == MessageState.PLANNED

    monkeypatch.setenv("ACME_DKIM_KEY", pem_file.read_text())
    kadenz(settings, db, "mailbox", "resume", "anna")
    assert send_due(db, clock, settings).sent == 1
    assert verify(sink.messages[-1].data, dns)

"""`domain check` against a real DNS server: each failure on its own, and what it leads to —
sending refused with the reason (until fixed or overridden), logged, counted, in health."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.mail import dkim
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.reporting import health
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import OutboundMessage
from engine.workspace import domain_checks
from engine.workspace.domain_checks import Finding
from tests.integration.deliverability.test_dkim_signing import invoke, kadenz, published_record
from tests.integration.sending.factory import build_world
from tests.support.dns_server import DnsServer
from tests.support.smtp_server import SmtpSink

SPF = '@ TXT "v=spf1 ip4:127.0.0.1 -all"'
MX = "@ MX 10 mail\nmail A 127.0.0.1"
DMARC = '_dmarc TXT "v=DMARC1; p=quarantine"'


def setup(db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink) -> str:
    """acme.example with a DKIM key and a mailbox on the sink; returns the DKIM record."""
    out = kadenz(settings, db, "domain", "add", "acme.example", "--selector", "k1")
    with db.session() as s:
        build_world(s, clock.now(), ["erik@beta.example"], smtp_url=sink.url)
    return published_record(out)


def findings(db: Database, settings: Settings, clock: VirtualClock) -> list[Finding]:
    with db.session() as s:
        _, found = domain_checks.check_and_store(
            s, domain_checks.resolver_for(settings), "acme.example", clock.now()
        )
    return found


def only(found: list[Finding], check: str) -> Finding:
    (one,) = [f for f in found if f.check == check]
    return one


def assert_only_failure(found: list[Finding], check: str) -> Finding:
    """`check` is the one problem: every other check passed."""
    others = [f for f in found if f.check != check]
    assert all(f.level == domain_checks.OK for f in others), others
    return only(found, check)


def test_missing_spf_fails(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, dns: DnsServer
) -> None:
    record = setup(db, clock, settings, sink)
    dns.zone("acme.example", "\n".join([MX, DMARC, record]))
    spf = assert_only_failure(findings(db, settings, clock), "spf")
    assert spf.level == domain_checks.FAIL
    assert spf.message == "acme.example has no SPF record"
    assert "v=spf1" in spf.fix


def test_spf_without_our_smtp_host_fails(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, dns: DnsServer
) -> None:
    record = setup(db, clock, settings, sink)
    dns.zone(
        "acme.example",
        "\n".join(['@ TXT "v=spf1 include:_spf.provider.example -all"', MX, DMARC, record]),
    )
    dns.zone("provider.example", '_spf TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all"')
    spf = assert_only_failure(findings(db, settings, clock), "spf")
    assert spf.level == domain_checks.FAIL
    assert "does not permit our SMTP host 127.0.0.1" in spf.message
    assert "-all in acme.example" in spf.message
    assert spf.fix.startswith("add ip4:127.0.0.1")
    # the include was followed: covering the host there passes
    dns.zone("provider.example", '_spf TXT "v=spf1 ip4:127.0.0.0/8 ~all"')
    assert only(findings(db, settings, clock), "spf").level == domain_checks.OK


def test_dkim_key_mismatch_fails(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, dns: DnsServer
) -> None:
    setup(db, clock, settings, sink)
    # someone published a different key under our selector
    foreign = dkim.load_key("acme.example", "k1", dkim.generate_pem(), "another key")
    dns.zone(
        "acme.example",
        "\n".join([SPF, MX, DMARC, dkim.zone_line("acme.example", "k1", foreign.public_key)]),
    )
    found = assert_only_failure(findings(db, settings, clock), "dkim")
    assert found.level == domain_checks.FAIL
    assert found.message == (
        "the DKIM record at k1._domainkey.acme.example is not our key "
        "(it publishes another public key)"
    )


def test_no_dmarc_fails(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, dns: DnsServer
) -> None:
    record = setup(db, clock, settings, sink)
    dns.zone("acme.example", "\n".join([SPF, MX, record]))
    dns.zone("example", "")  # the parent zone answers (NXDOMAIN), as the real root would
    found = assert_only_failure(findings(db, settings, clock), "dmarc")
    assert found.level == domain_checks.FAIL
    assert found.message == "acme.example has no DMARC record (_dmarc.acme.example)"


def test_dmarc_p_none_is_a_warning_and_sending_goes_on(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, dns: DnsServer
) -> None:
    record = setup(db, clock, settings, sink)
    dns.zone("acme.example", "\n".join([SPF, MX, '_dmarc TXT "v=DMARC1; p=none"', record]))
    found = assert_only_failure(findings(db, settings, clock), "dmarc")
    assert found.level == domain_checks.WARNING
    assert "p=none: monitoring only" in found.message
    tick(db, clock, settings)
    assert send_due(db, clock, settings).sent == 1


def test_a_failing_domain_is_refused_with_the_reason_until_fixed_or_overridden(
    db: Database,
    clock: VirtualClock,
    settings: Settings,
    sink: SmtpSink,
    dns: DnsServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = setup(db, clock, settings, sink)
    dns.zone("acme.example", "\n".join([MX, DMARC, record]))  # no SPF
    with caplog.at_level(logging.ERROR, logger="engine.workspace.domain_checks"):
        result = invoke(settings, db, "domain", "check", "acme.example")
    assert result.exit_code == 1
    assert "sending from acme.example is refused until this passes" in result.output
    logged = [r.getMessage() for r in caplog.records]
    assert any("check=spf level=fail" in line and "fix=" in line for line in logged)

    tick(db, clock, settings)
    report = send_due(db, clock, settings)
    assert (report.sent, report.held) == (0, 1) and sink.messages == []
    with db.session() as s:
        message = s.scalars(select(OutboundMessage)).one()
        assert message.state == MessageState.PLANNED
        assert message.held_reason is not None
        assert message.held_reason.startswith(
            "sending domain acme.example fails its DNS checks: spf: acme.example has no SPF record"
        )
        assert "kadenz domain override acme.example" in message.held_reason
    figures = health.collect(db, clock)
    assert figures.held["domain"] == 1
    (row,) = figures.domains
    assert row.status == "fail" and row.problems[0].startswith("spf: acme.example has no SPF")
    assert 'kadenz_domain_check_failing{domain="acme.example"} 1' in health.to_prometheus(figures)
    assert 'kadenz_messages_held{reason="domain"} 1' in health.to_prometheus(figures)

    kadenz(settings, db, "domain", "override", "acme.example", "--reason", "SPF change pending")
    clock.advance(timedelta(minutes=16))
    assert send_due(db, clock, settings).sent == 1
    assert health.collect(db, clock).held["domain"] == 0


def test_the_sender_rechecks_a_stale_domain_by_itself(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, dns: DnsServer
) -> None:
    record = setup(db, clock, settings, sink)
    dns.zone("acme.example", "\n".join([MX, DMARC, record]))  # no SPF: never checked yet
    tick(db, clock, settings)
    assert send_due(db, clock, settings).held == 1  # checked before the claim, then refused
    dns.zone("acme.example", "\n".join([SPF, MX, DMARC, record]))  # fixed
    clock.advance(timedelta(hours=settings.domain_check_hours + 1))
    assert send_due(db, clock, settings).sent == 1

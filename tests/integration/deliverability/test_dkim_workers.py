"""The Celery path signs too: the send task body (in-process, real PostgreSQL and Redis) sends
a message that verifies against the DNS record, served by the test's DNS server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest
import redis

from engine.mail.resolver import Resolver, get_txt_for_dkim
from engine.store.db import Database
from engine.workspace import domain_checks, domains
from tests.integration.deliverability.test_dkim_signing import GOOD_ZONE
from tests.integration.sending.factory import BASIC_SPEC, build_world
from tests.support.dns_server import DnsServer
from tests.support.smtp_server import SmtpSink
from workers import runtime, tasks

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ALWAYS_OPEN = {  # the workers use the real clock: a window that is open whenever this runs
    **BASIC_SPEC,
    "schedule": {"timezone": "UTC", "window": "Mon-Sun 00:00-23:59"},
}


@pytest.fixture
def services(
    postgres_db: Database,
    tmp_path: Path,
    redis_url: str,
    redis_prefix: str,
    dns: DnsServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[runtime.Services]:
    for name, value in {
        "KADENZ_HOME": str(tmp_path),
        "KADENZ_DATABASE_URL": postgres_db.url,
        "KADENZ_REDIS_URL": redis_url,
        "KADENZ_REDIS_PREFIX": redis_prefix,
        "KADENZ_SECRET_KEY": "test",
        "KADENZ_DNS_NAMESERVERS": dns.nameserver,
    }.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    s = runtime.services()
    yield s
    runtime.shutdown()  # the kept SMTP connections: never left for the collector to close
    s.db.dispose()
    s.redis.close()
    runtime.reset()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_the_send_task_signs_what_it_sends(
    services: runtime.Services, dns: DnsServer, sink: SmtpSink
) -> None:
    s = services
    with s.db.session() as session:
        added = domains.add(session, s.settings, "acme.example", at=s.clock.now(), selector="w1")
        world = build_world(
            session, s.clock.now(), ["erik@beta.example"], spec=ALWAYS_OPEN, smtp_url=sink.url
        )
    dns.zone("acme.example", GOOD_ZONE + "\n" + added.zone_line)
    with s.db.session() as session:
        domain_checks.check_and_store(
            session, domain_checks.resolver_for(s.settings), "acme.example", s.clock.now()
        )
    tasks.tick()
    tasks.send_mailbox(world.mailbox_id)
    (message,) = sink.messages
    assert message.data.startswith(b"DKIM-Signature: ")
    assert dkim.verify(message.data, dnsfunc=get_txt_for_dkim(Resolver(dns.nameserver, 2.0)))

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.settings import Settings
from tests.support.dns_server import DnsServer
from tests.support.smtp_server import SmtpSink


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path, dns: DnsServer) -> Settings:
    return Settings(
        home=home,
        secret_key="test-secret",
        public_url="https://kadenz.acme.example",
        postal_address="Acme GmbH, Hauptstr. 1, 80331 München",
        dns_nameservers=dns.nameserver,
        dns_timeout=2.0,
    )

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.settings import Settings
from tests.support.smtp_server import SmtpSink


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def settings(tmp_path: object) -> Settings:
    return Settings(
        home=tmp_path,  # type: ignore[arg-type]
        secret_key="test-secret",
        public_url="https://kadenz.acme.example",
        postal_address="Acme GmbH, Hauptstr. 1, 80331 München",
    )

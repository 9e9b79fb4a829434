from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.settings import Settings
from tests.integration.sending.smtp_sink import Sink, SinkServer


@pytest.fixture
def sink() -> Iterator[Sink]:
    with SinkServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: object) -> Settings:
    return Settings(
        home=tmp_path,  # type: ignore[arg-type]
        secret_key="test-secret",
        public_url="https://kadenz.acme.example",
        postal_address="Acme GmbH, Hauptstr. 1, 80331 München",
    )

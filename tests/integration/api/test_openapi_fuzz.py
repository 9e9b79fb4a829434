"""The OpenAPI document loads and every operation survives generated requests (schemathesis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from engine.store.db import Database
from tests.support.web import SeededApp, seeded_app


@schemathesis.serializer("message/rfc822", "application/yaml")
def _raw_text(ctx: Any, value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")


@pytest.fixture
def seeded(sqlite_db: Database, tmp_path: Path) -> SeededApp:
    return seeded_app(sqlite_db, tmp_path)


def test_no_server_errors_on_generated_requests(seeded: SeededApp) -> None:
    """Bounded: 15 generated requests per operation, with an admin token (all endpoints open)."""
    admin = {"Authorization": f"Bearer {seeded.tokens['admin']}"}
    api = schemathesis.openapi.from_asgi("/openapi.json", seeded.app)
    seen = 0
    for result in api.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def run(case: Any) -> None:
            response = case.call(headers=admin)
            where = f"{case.method} {case.formatted_path} -> {response.status_code}"
            assert response.status_code < 500 or response.status_code == 501, (
                f"{where}: {response.text[:300]}"
            )
            if response.status_code >= 400:
                assert response.headers["content-type"][0].startswith("application/problem+json"), (
                    where
                )

        run()
        seen += 1
    assert seen >= 12


def test_openapi_document_is_valid(seeded: SeededApp) -> None:
    document = seeded.app.openapi()
    assert document["openapi"].startswith("3.")
    loaded = schemathesis.openapi.from_dict(document)  # raises on an invalid document
    assert len([op.ok() for op in loaded.get_all_operations()]) >= 12

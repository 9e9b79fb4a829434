"""Fixtures for the security regression tests (issue 19): reuse the prospects' and API's."""

from __future__ import annotations

from tests.integration.api.conftest import web
from tests.integration.prospects.conftest import cli, write_csv

__all__ = ["cli", "web", "write_csv"]

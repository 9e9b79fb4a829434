"""Fixtures for the security regression tests (issue 19): reuse the prospects' ones."""

from __future__ import annotations

from tests.integration.prospects.conftest import cli, write_csv

__all__ = ["cli", "write_csv"]

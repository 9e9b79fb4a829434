from __future__ import annotations

from pathlib import Path

import pytest

from engine.store.db import Database
from tests.support.web import SeededApp, seeded_app


@pytest.fixture
def web(db: Database, tmp_path: Path) -> SeededApp:
    return seeded_app(db, tmp_path)

"""Headless Chromium against the dashboard served by uvicorn on a free local port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from engine.store.db import Database
from tests.conftest import missing
from tests.support.web import SeededApp, seeded_app

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_db: Database, tmp_path: Path) -> Iterator[tuple[str, SeededApp]]:
    if not CHROMIUM.exists():
        missing("Chromium (apt-get install chromium)")
    web = seeded_app(sqlite_db, tmp_path)
    port = _free_port()
    config = uvicorn.Config(
        web.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    ready = threading.Event()
    for _ in range(500):  # wait for the socket to accept, not for a fixed time
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            ready.set()
            break
        except OSError:
            ready.wait(0.02)
    assert ready.is_set(), "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", web
    srv.should_exit = True
    thread.join(timeout=10)

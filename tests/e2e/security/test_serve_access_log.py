"""Issue 19 item 19: unsubscribe tokens are in the URL path; the access log of a real
`kadenz serve` process shows `/u/[redacted]`, never the token."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from engine.api import access_log
from tests.e2e.test_run_once import KADENZ, _env

TOKEN = "u1.4242.Zm9yZ2VkLXNpZ25hdHVyZS1oZXJl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_item19_unsubscribe_tokens_stay_out_of_the_access_log(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    subprocess.run([str(KADENZ), "init"], env=_env(home), check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [str(KADENZ), "serve", "--port", str(port)], env=_env(home), stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "kadenz serve did not start"
                time.sleep(0.2)
        for method in ("GET", "POST"):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/u/{TOKEN}", data=b"" if method == "POST" else None
            )
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError as exc:
                assert exc.code == 400  # a forged token: refused, and not logged
                exc.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    log.seek(0)
    text = log.read()
    log.close()
    assert text.count('/u/[redacted] HTTP/1.1" 400') == 2, text
    assert TOKEN not in text and "Zm9yZ2Vk" not in text


def test_item19_redaction_keeps_the_rest_of_the_line() -> None:
    assert access_log.redact("/u/u1.1.abc") == "/u/[redacted]"
    assert access_log.redact("/login?next=/&token=kdz_x") == "/login?next=/&token=[redacted]"
    assert access_log.redact("/api/v1/tasks?owner=ben") == "/api/v1/tasks?owner=ben"

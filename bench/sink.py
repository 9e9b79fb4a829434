"""An SMTP sink in its own process, so it never competes for the measured process's GIL.

`python -m bench.sink` starts aiosmtpd on 127.0.0.1 (a free port), prints the port, and then
answers lines on stdin: `count` prints how many messages it accepted, `reset` zeroes it.
It exits when stdin closes. Messages are counted and dropped, not stored.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


class _CountingHandler:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += len(envelope.rcpt_tos)
        return "250 2.0.0 OK"


class _AnyPortController(Controller):
    """Binds port 0 and learns the real port before aiosmtpd's readiness probe connects."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def serve() -> None:
    handler = _CountingHandler()
    controller = _AnyPortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    print(controller.port, flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                print(handler.count, flush=True)
            elif command == "reset":
                with handler.lock:
                    handler.count = 0
                print("ok", flush=True)
    finally:
        controller.stop()


class SinkProcess:
    """The parent's handle: start, ask how many arrived, stop (context manager)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> SinkProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.sink"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self._readline())
        return self

    def _readline(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the SMTP sink process exited")
        return line.strip()

    def _ask(self, command: str) -> str:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        return self._readline()

    def count(self) -> int:
        return int(self._ask("count"))

    def reset(self) -> None:
        self._ask("reset")

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    serve()

"""Issue 19 item 5: two `kadenz run` on one home would each count caps in their own memory
(120 sent on a 60/day mailbox). The second runner is refused, naming the first; once the
first is gone (even killed), a new one starts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.test_run_once import KADENZ, _env


def test_item05_second_runner_on_one_home_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    subprocess.run([str(KADENZ), "init"], env=_env(home), check=True, capture_output=True)
    env = {**_env(home), "KADENZ_TICK_SECONDS": "0.2"}
    first = subprocess.Popen(
        [str(KADENZ), "run"], env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert first.stderr is not None
        assert "kadenz run: ticking" in first.stderr.readline()  # it holds the lock now
        second = subprocess.run(
            [str(KADENZ), "run", "--once"], env=env, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 1
        [line] = second.stderr.splitlines()
        assert line.startswith("error: another `kadenz run` already runs on ")
        assert f"pid {first.pid}" in line and "Traceback" not in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # a crash: the kernel drops the lock
        first.wait(timeout=30)
        if first.stderr is not None:
            first.stderr.close()
    deadline = time.monotonic() + 30
    while True:  # the lock is released with the process; no stale file to clean up
        again = subprocess.run(
            [str(KADENZ), "run", "--once"], env=env, capture_output=True, text=True, timeout=120
        )
        if again.returncode == 0 or time.monotonic() > deadline:
            break
    assert again.returncode == 0, again.stderr

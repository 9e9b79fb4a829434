"""`pip install .` into a fresh venv outside the checkout, then `kadenz demo` in an empty folder.

This is how the Docker image and a plain pip user get Kadenz: nothing of the checkout is on
the path, so the example sequences and templates must travel inside the wheel (setup.py).
Kadenz itself is built from a copy of the checkout's files; its dependencies are borrowed
from the test's own environment (a .pth line) so that the test needs no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PIP_FLAGS = ("--no-deps", "--no-build-isolation", "--quiet")


def _source_copy(dest: Path) -> Path:
    """The files a fresh clone has (tracked, or new and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_pip_install_then_demo_in_an_empty_folder(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to copy from")
    source = _source_copy(tmp_path / "src")
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KADENZ_", "PYTHON"))}
    env["COLUMNS"] = "160"
    # no pip nor setuptools of its own: the build uses the borrowed (current) setuptools
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        tmp_path,
        env,
    ).stdout.strip()
    Path(site, "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", *PIP_FLAGS, str(source)],
        tmp_path,
        env,
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    where = _run([str(python), "-c", "import engine; print(engine.__file__)"], empty, env)
    assert where.stdout.strip().startswith(site), where.stdout  # the wheel, not the checkout
    demo = _run(
        [str(venv / "bin" / "kadenz"), "demo", "--prospects", "40", "--days", "14"], empty, env
    )
    assert "example sequences are invalid" not in demo.stdout + demo.stderr
    assert "Traceback" not in demo.stderr
    assert (empty / "demo-out").is_dir()
    assert "saas-founders" in demo.stdout

"""The docs are executable: every ```sh block of README.md and docs/*.md runs verbatim.

The convention (docs/index.md): a ```sh block is run exactly as written, top to bottom, one
shell per page (so an `export` or a `cd` carries over to the page's next blocks); ```text and
```console blocks are output or illustrations (a real provider's host, a command that needs a
service this machine does not have) and are never run.

Each page runs in a fresh workspace, as a new user's clone after `make install`: a copy of the
checkout's files as a working copy (its default KADENZ_HOME, ./.kadenz, starts empty), its
.venv the one running these tests, no KADENZ_* variable set. What a page needs (a local SMTP
sink, a password variable) it starts or exports itself, in its own ```sh blocks; the test
provides nothing behind its back. Commands a page leaves running in the background (`&`) are
stopped when the page ends.

Excluded, and only these: the `make` targets that *are* this test suite or run for minutes
(`make test`, `make demo`, `make bench`) or that the workspace has already done (`make
install`); each is replaced by a line saying so.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXCLUDED = {
    "make test": "the test suite itself",
    "make demo": "runs a month for minutes; tests/e2e/test_demo.py runs it",
    "make bench": "runs for minutes; tests/unit/test_bench_smoke.py runs it small",
    "make install": "the workspace is installed already (its .venv runs this test)",
}
MARK = "\x1e"  # printed before each command's output, to cut out the failing one's
CONTINUES = ("\\", "&&", "||", "|")
HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")


@dataclass(frozen=True)
class Command:
    line: int  # in the page, 1-based
    text: str


def sh_commands(page: Path) -> list[Command]:
    """The page's ```sh blocks as commands (continued lines and heredocs kept whole)."""
    text = page.read_text(encoding="utf-8")
    commands: list[Command] = []
    for block in FENCE.finditer(text):
        if block.group(1) != "sh":
            continue
        first = text[: block.start(2)].count("\n") + 1
        lines = block.group(2).splitlines()
        i = 0
        while i < len(lines):
            start, parts = i, [lines[i]]
            heredoc = HEREDOC.search(lines[i])
            while parts[-1].split(" #")[0].rstrip().endswith(CONTINUES) and i + 1 < len(lines):
                i += 1
                parts.append(lines[i])
            if heredoc:
                while i + 1 < len(lines) and lines[i].strip() != heredoc.group(1):
                    i += 1
                    parts.append(lines[i])
            i += 1
            command = "\n".join(parts)
            if command.strip() and not command.strip().startswith("#"):
                commands.append(Command(first + start, command))
    return commands


def excluded(command: str) -> str | None:
    bare = command.split("#")[0].strip()
    return EXCLUDED.get(bare)


def script(page: Path, commands: list[Command]) -> str:
    out = [
        "set -eE -o pipefail",
        "__kd_line=0",
        "trap '__kd_rc=$?; echo \"docs-test: exit $__kd_rc at line $__kd_line\" >&2' ERR",
    ]
    for c in commands:
        out.append(f"__kd_line={c.line}; printf '\\n{MARK}%s\\n' {c.line}")
        why = excluded(c.text)
        out.append(f"echo 'skipped by the docs test: {why}'" if why else c.text)
    return "\n".join(out) + "\n"


def workspace(tmp: Path) -> Path:
    """A working copy of the checkout's files (tracked or new, not ignored) with its .venv."""
    work = tmp / "kadenz"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, work / name)
    (work / ".venv").symlink_to(Path(sys.prefix))
    return work


def _failure(page: Path, commands: list[Command], output: str, rc: int) -> str:
    where = re.findall(r"docs-test: exit \d+ at line (\d+)", output)
    line = int(where[-1]) if where else 0
    command = next((c.text for c in commands if c.line == line), "?")
    chunks = output.split(MARK)
    last = chunks[-1].split("\n", 1)[-1] if len(chunks) > 1 else output
    return (
        f"{page.relative_to(ROOT)}:{line}: this command failed (exit {rc}):\n{command}\n"
        f"--- its output ---\n{last[-4000:]}"
    )


RUNNABLE = [page for page in PAGES if sh_commands(page)]


def test_the_pages_that_teach_commands_have_runnable_blocks() -> None:
    names = {str(p.relative_to(ROOT)) for p in RUNNABLE}
    assert {"README.md", "docs/getting-started.md", "docs/demo.md"} <= names, names


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_runs_verbatim(page: Path, tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to copy from")
    commands = sh_commands(page)
    work = workspace(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KADENZ_", "VIRTUAL_ENV"))}
    env["HOME"] = str(tmp_path / "home")
    # as after `make install` and `source .venv/bin/activate` (pages that say so do it again)
    env["VIRTUAL_ENV"] = str(work / ".venv")
    env["PATH"] = f"{work / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"
    (tmp_path / "home").mkdir()
    log = tmp_path / "output.log"
    with log.open("w", encoding="utf-8") as sink:
        # a file, not a pipe: background jobs keep their stdout open until the page ends
        shell = subprocess.Popen(
            ["bash", "-c", script(page, commands)],
            cwd=work,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: background jobs end with the page
        )
        try:
            shell.wait(timeout=240)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
            shell.wait()
    output = log.read_text(encoding="utf-8", errors="replace")
    assert shell.returncode == 0, _failure(page, commands, output, shell.returncode)


def test_the_extractor_keeps_commands_whole(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n```sh\nexport A=1\nkadenz mailbox add a \\\n  --address a@x.example\n"
        "cat > f <<'EOF'\nx && y\nEOF\nmake demo   # runs\n```\n"
        "```text\nnot run\n```\n```console\n$ not run either\n```\n",
        encoding="utf-8",
    )
    commands = sh_commands(page)
    assert [c.line for c in commands] == [3, 4, 6, 9]
    assert commands[1].text.endswith("--address a@x.example")
    assert commands[2].text.endswith("EOF")
    assert excluded(commands[3].text) is not None
    assert excluded(commands[0].text) is None

"""Where raw messages come from when they are fed by hand: .eml files, Maildir, mbox, stdin.

Each source yields (label, raw bytes); the label names the message in CLI output
("inbox.mbox#3", "Maildir/new/1700000000.x"). Unreadable paths are a clear KadenzError.
"""

from __future__ import annotations

import mailbox
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from engine.errors import InvalidInput

MAX_MESSAGE_BYTES = 50 * 1024 * 1024  # a bigger "message" is a mistake (wrong file)


def iter_sources(paths: list[str], *, stdin: BinaryIO | None = None) -> Iterator[tuple[str, bytes]]:
    """Every message of every path, in order. `-` reads one message from stdin."""
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            raw = stream.read(MAX_MESSAGE_BYTES + 1)
            if len(raw) > MAX_MESSAGE_BYTES:  # never store a message cut short
                raise InvalidInput(
                    f"stdin: larger than {MAX_MESSAGE_BYTES // 2**20} MiB, not one message "
                    "(nothing was stored)"
                )
            yield "stdin", raw
            continue
        yield from iter_path(Path(path))


def iter_path(path: Path) -> Iterator[tuple[str, bytes]]:
    if not path.exists():
        raise InvalidInput(
            f"{path}: no such file or directory (give .eml files, a Maildir, an mbox or -)"
        )
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            yield from _maildir(path)
        else:
            yield from _eml_directory(path)
        return
    if _looks_like_mbox(path):
        yield from _mbox(path)
    else:
        yield str(path), _read(path)


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_MESSAGE_BYTES:
            raise InvalidInput(
                f"{path}: larger than {MAX_MESSAGE_BYTES // 2**20} MiB, not one message"
            )
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"{path}: cannot read it ({exc.strerror}); check the permissions"
        ) from None


def _looks_like_mbox(path: Path) -> bool:
    """mbox files start with a `From ` separator line; an .eml never does."""
    try:
        with path.open("rb") as f:
            return f.read(5) == b"From "
    except OSError:
        return False


def _maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    """cur/ and new/ (tmp/ holds messages still being written: never read them)."""
    for sub in ("new", "cur"):
        folder = path / sub
        if folder.is_dir():
            for item in sorted(folder.iterdir()):
                if item.is_file() and not item.name.startswith("."):
                    yield f"{path.name}/{sub}/{item.name}", _read(item)


def _eml_directory(path: Path) -> Iterator[tuple[str, bytes]]:
    for item in sorted(path.iterdir()):
        if item.is_file() and item.suffix.lower() in (".eml", ".msg", ".txt", ""):
            yield from iter_path(item)


def _mbox(path: Path) -> Iterator[tuple[str, bytes]]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for index, key in enumerate(box.keys(), start=1):
            yield f"{path.name}#{index}", box.get_bytes(key)
    finally:
        box.close()

"""Reading messages from .eml files, Maildir folders, mbox files and stdin."""

from __future__ import annotations

import io
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.inbound.mailsources import iter_sources


def _msg(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"p{n}@acme.example"
    msg["Subject"] = f"message {n}"
    msg["Message-ID"] = f"<m{n}@acme.example>"
    msg.set_content(f"body {n}\nFrom the start of a line\n")
    return msg


def test_eml_maildir_mbox_and_stdin(tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(_msg(1).as_bytes())
    md = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    md.add(_msg(2))
    md.add(_msg(3))
    mbox_path = tmp_path / "archive.mbox"
    mb = mailbox.mbox(str(mbox_path))
    mb.add(_msg(4))
    mb.add(_msg(5))
    mb.close()

    found = list(
        iter_sources(
            [str(eml), str(tmp_path / "Maildir"), str(mbox_path), "-"],
            stdin=io.BytesIO(_msg(6).as_bytes()),
        )
    )

    subjects = [raw.split(b"Subject: ")[1].split(b"\n")[0] for _, raw in found]
    assert sorted(subjects) == [f"message {n}".encode() for n in range(1, 7)]
    labels = [label for label, _ in found]
    assert labels[0] == str(eml) and labels[-1] == "stdin"
    assert "archive.mbox#1" in labels and any(lb.startswith("Maildir/new/") for lb in labels)
    mbox_body = dict(found)["archive.mbox#1"]
    assert b"From the start of a line" in mbox_body  # mbox quoting undone


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no such file or directory \(give \.eml files"):
        list(iter_sources([str(tmp_path / "nope.eml")]))

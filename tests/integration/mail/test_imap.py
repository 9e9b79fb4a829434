"""fetch_new against a real Dovecot: new mail only, nothing marked, moved or deleted."""

from __future__ import annotations

import imaplib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.mail.imap import FolderCheckpoint, ImapError, fetch_new, quote_folder
from engine.mail.urls import parse_imap_url
from tests.conftest import missing
from tests.support.imap_server import Dovecot, dovecot_available


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """One server for the module (starting Dovecot costs a second): each test its own folders."""
    if not dovecot_available():
        missing("Dovecot (apt-get install dovecot-imapd)")
    with Dovecot(tmp_path_factory.mktemp("dovecot")) as server:
        yield server


def mail(n: int, folder: str = "INBOX") -> bytes:
    return (
        f"From: Erik <erik@customer.example>\r\nTo: anna@acme.example\r\n"
        f"Subject: Re: hello {n}\r\nMessage-ID: <reply-{n}@customer.example>\r\n"
        f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nreply {n} in {folder}\r\n"
    ).encode()


def flags(server: Dovecot, folder: str) -> list[bytes]:
    conn = server.client()
    try:
        conn.select(quote_folder(folder), readonly=True)
        _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        return [d for d in data if isinstance(d, bytes)]
    finally:
        conn.logout()


def test_fetches_new_mail_then_only_newer_mail(dovecot: Dovecot) -> None:
    endpoint = parse_imap_url(dovecot.url)
    for n in (1, 2, 3):
        dovecot.append("New", mail(n))
    first, checkpoints = fetch_new(endpoint, dovecot.password, ["New"], {}, timeout=10)
    assert [m.uid for m in first] == [1, 2, 3]
    assert first[0].raw == mail(1)
    assert checkpoints["New"].last_uid == 3 and checkpoints["New"].uidvalidity > 0

    again, same = fetch_new(endpoint, dovecot.password, ["New"], checkpoints, timeout=10)
    assert again == [] and same == checkpoints  # "4:*" still matches UID 3: filtered out

    dovecot.append("New", mail(4))
    newer, after = fetch_new(endpoint, dovecot.password, ["New"], checkpoints, timeout=10)
    assert [(m.uid, m.raw) for m in newer] == [(4, mail(4))]
    assert after["New"].last_uid == 4


def test_never_marks_moves_or_deletes(dovecot: Dovecot) -> None:
    dovecot.append("Untouched", mail(1))
    dovecot.append("Untouched", mail(2), flags="(\\Flagged)")
    before = flags(dovecot, "Untouched")
    fetched, _ = fetch_new(parse_imap_url(dovecot.url), dovecot.password, ["Untouched"], {})
    assert len(fetched) == 2
    after = flags(dovecot, "Untouched")
    assert after == before
    assert not any(b"\\Seen" in f for f in after)
    assert any(b"\\Flagged" in f for f in after)  # unrelated flags untouched


def test_several_folders_with_a_limit_resume_where_they_stopped(dovecot: Dovecot) -> None:
    folders = ["Inbox2", "Entwürfe & Co", "Junk"]
    for n in range(1, 5):
        dovecot.append("Inbox2", mail(n))
    conn = dovecot.client()
    conn.create(quote_folder("Entwürfe & Co"))
    conn.logout()
    dovecot.append(quote_folder("Entwürfe & Co"), mail(10, "Entwürfe"))
    dovecot.append("Junk", mail(20, "Junk"))
    endpoint = parse_imap_url(dovecot.url)
    got, checkpoints = fetch_new(endpoint, dovecot.password, folders, {}, limit=3)
    assert [(m.folder, m.uid) for m in got] == [("Inbox2", 1), ("Inbox2", 2), ("Inbox2", 3)]
    assert set(checkpoints) == {"Inbox2"}
    rest, checkpoints = fetch_new(endpoint, dovecot.password, folders, checkpoints, limit=3)
    assert [(m.folder, m.uid) for m in rest] == [("Inbox2", 4), ("Entwürfe & Co", 1), ("Junk", 1)]
    assert b"reply 10 in Entw" in rest[1].raw
    assert set(checkpoints) == set(folders)


def test_uidvalidity_change_restarts_the_folder(dovecot: Dovecot) -> None:
    dovecot.append("Archive", mail(1))
    dovecot.append("Archive", mail(2))
    endpoint = parse_imap_url(dovecot.url)
    _, checkpoints = fetch_new(endpoint, dovecot.password, ["Archive"], {})
    stale = {"Archive": FolderCheckpoint("Archive", checkpoints["Archive"].uidvalidity - 1, 2)}
    refetched, fresh = fetch_new(endpoint, dovecot.password, ["Archive"], stale)
    assert [m.uid for m in refetched] == [1, 2]
    assert fresh["Archive"] == checkpoints["Archive"]


def test_empty_folder_keeps_a_checkpoint(dovecot: Dovecot) -> None:
    conn = dovecot.client()
    conn.create("Empty")
    conn.logout()
    got, checkpoints = fetch_new(parse_imap_url(dovecot.url), dovecot.password, ["Empty"], {})
    assert got == [] and checkpoints["Empty"].last_uid == 0


def test_unreachable_server_is_an_imap_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ImapError, match="cannot connect"):
        fetch_new(parse_imap_url(f"imap://u@127.0.0.1:{port}"), "pw", ["INBOX"], {}, timeout=2)


def test_imaplib_sees_the_quoted_folder_name() -> None:
    assert quote_folder("INBOX") == '"INBOX"'
    assert quote_folder("Entwürfe & Co") == '"Entw&APw-rfe &- Co"'
    assert quote_folder('a"b\\c') == '"a\\"b\\\\c"'
    assert imaplib.IMAP4 is not None


def test_imaps_and_starttls_with_a_trusted_certificate(tmp_path: Path) -> None:
    if not dovecot_available():
        missing("Dovecot (apt-get install dovecot-imapd)")
    from tests.support.smtp_server import SmtpSink, tls_available

    if not tls_available():
        pytest.skip("the openssl CLI makes the test certificate")
    with Dovecot(tmp_path, imaps=True) as server:
        server.append("INBOX", mail(1))
        endpoint = parse_imap_url(f"imaps://{server.user}@127.0.0.1:{server.tls_port}")
        trusted = SmtpSink().client_tls_context()
        got, _ = fetch_new(endpoint, server.password, ["INBOX"], {}, tls_context=trusted)
        assert [m.raw for m in got] == [mail(1)]
        with pytest.raises(ImapError, match="TLS failed"):
            fetch_new(endpoint, server.password, ["INBOX"], {})  # system CAs: untrusted
        starttls = parse_imap_url(f"imap+starttls://{server.user}@127.0.0.1:{server.port}")
        got, _ = fetch_new(starttls, server.password, ["INBOX"], {}, tls_context=trusted)
        assert [m.raw for m in got] == [mail(1)]


# Last in the module: after a failed login Dovecot slows later logins from 127.0.0.1.
def test_clear_errors_for_login_and_folders(dovecot: Dovecot) -> None:
    endpoint = parse_imap_url(dovecot.url)
    with pytest.raises(ImapError, match="folder 'Nope' cannot be opened"):
        fetch_new(endpoint, dovecot.password, ["Nope"], {})
    with pytest.raises(ImapError, match="no password"):
        fetch_new(endpoint, None, ["INBOX"], {})
    starttls = parse_imap_url(dovecot.url.replace("imap://", "imap+starttls://"))
    with pytest.raises(ImapError, match="STARTTLS failed"):
        fetch_new(starttls, dovecot.password, ["INBOX"], {})  # this server has no TLS
    # Last: after a failed login Dovecot slows further logins from this address down.
    with pytest.raises(ImapError, match=r"login as 'anna@acme\.example' refused") as caught:
        fetch_new(endpoint, "wrong-password", ["INBOX"], {})
    assert "wrong-password" not in str(caught.value)

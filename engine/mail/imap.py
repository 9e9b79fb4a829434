"""Read new mail from a mailbox's IMAP folders without changing anything there.

Folders are opened read-only (EXAMINE) and bodies fetched with BODY.PEEK[], so no message
is marked \\Seen, moved or deleted: the SDR's mailbox looks exactly as before. Progress is a
(UIDVALIDITY, last UID) checkpoint per folder; when the server renumbers a folder
(UIDVALIDITY changed) we start that folder again from the beginning, which is safe because
ingest dedupes by Message-ID.

Blocking (stdlib imaplib): call it with `asyncio.to_thread` from async code.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass

from engine.errors import KadenzError
from engine.mail.failures import FailureKind, kind_of
from engine.mail.urls import Endpoint

_UID = re.compile(rb"\bUID (\d+)")
_FETCH_BATCH = 50


class ImapError(KadenzError):
    """The IMAP server could not be reached, refused the login, or lacks a folder."""

    def __init__(self, message: str, kind: FailureKind = FailureKind.PROTOCOL) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class FolderCheckpoint:
    folder: str
    uidvalidity: int
    last_uid: int  # highest UID already fetched in this UIDVALIDITY epoch


@dataclass(frozen=True)
class FetchedMessage:
    folder: str
    uid: int
    raw: bytes  # the complete RFC 5322 message as stored on the server


def fetch_new(
    endpoint: Endpoint,
    password: str | None,
    folders: list[str],
    checkpoints: dict[str, FolderCheckpoint],
    *,
    limit: int = 500,
    timeout: float = 30.0,
    tls_context: ssl.SSLContext | None = None,
) -> tuple[list[FetchedMessage], dict[str, FolderCheckpoint]]:
    """Messages newer than each folder's checkpoint (oldest first, at most `limit` in all).

    Returns them with the updated checkpoints; folders not reached keep theirs, so calling
    again continues where this call stopped.
    """
    if endpoint.scheme != "imap":
        raise ValueError(f"fetch_new needs an imap endpoint, got {endpoint}")
    conn = _connect(endpoint, timeout, tls_context)
    try:
        _login(conn, endpoint, password)
        fetched: list[FetchedMessage] = []
        updated = dict(checkpoints)
        for folder in folders:
            budget = limit - len(fetched)
            if budget <= 0:
                break
            messages, checkpoint = _fetch_folder(
                conn, endpoint, folder, checkpoints.get(folder), budget
            )
            fetched.extend(messages)
            updated[folder] = checkpoint
        return fetched, updated
    except (imaplib.IMAP4.abort, OSError) as exc:
        raise ImapError(
            f"{endpoint}: connection failed while reading mail: {exc}", kind_of(exc)
        ) from exc
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


def open_session(
    endpoint: Endpoint,
    password: str | None,
    *,
    timeout: float = 30.0,
    tls_context: ssl.SSLContext | None = None,
) -> imaplib.IMAP4:
    """A connected, logged-in session (for IDLE); ImapError with its kind otherwise."""
    conn = _connect(endpoint, timeout, tls_context)
    try:
        _login(conn, endpoint, password)
    except (imaplib.IMAP4.abort, OSError) as exc:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.shutdown()
        raise ImapError(f"{endpoint}: connection failed at login: {exc}", kind_of(exc)) from exc
    except BaseException:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.shutdown()
        raise
    return conn


def _connect(
    endpoint: Endpoint, timeout: float, tls_context: ssl.SSLContext | None
) -> imaplib.IMAP4:
    context = tls_context or ssl.create_default_context()
    try:
        if endpoint.security == "tls":
            return imaplib.IMAP4_SSL(
                endpoint.host, endpoint.port, ssl_context=context, timeout=timeout
            )
        conn = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=timeout)
        if endpoint.security == "starttls":
            try:
                conn.starttls(ssl_context=context)
            except imaplib.IMAP4.error as exc:
                conn.shutdown()
                raise ImapError(
                    f"{endpoint}: STARTTLS failed ({exc}); use imaps:// (port 993) or fix "
                    "the server",
                    FailureKind.TLS,
                ) from exc
        return conn
    except ssl.SSLError as exc:
        raise ImapError(
            f"{endpoint}: TLS failed: {exc} (check the host name, port and certificate)",
            FailureKind.TLS,
        ) from exc
    except OSError as exc:
        raise ImapError(f"{endpoint}: cannot connect: {exc}", kind_of(exc)) from exc


def _login(conn: imaplib.IMAP4, endpoint: Endpoint, password: str | None) -> None:
    if not endpoint.username:
        raise ImapError(
            f"{endpoint}: no username; write it in the URL (imaps://user@host)",
            FailureKind.USERNAME_MISSING,
        )
    if password is None:
        raise ImapError(
            f"{endpoint}: no password; set the environment variable named by --password-env",
            FailureKind.PASSWORD_MISSING,
        )
    try:
        conn.login(endpoint.username, password)
    except imaplib.IMAP4.error as exc:
        # The server's words, never the password.
        raise ImapError(
            f"{endpoint}: login as {endpoint.username!r} refused ({_text(exc)}); "
            "check the password variable",
            FailureKind.AUTH,
        ) from exc


def _fetch_folder(
    conn: imaplib.IMAP4,
    endpoint: Endpoint,
    folder: str,
    checkpoint: FolderCheckpoint | None,
    budget: int,
) -> tuple[list[FetchedMessage], FolderCheckpoint]:
    typ, data = conn.select(quote_folder(folder), readonly=True)  # EXAMINE
    if typ != "OK":
        raise ImapError(
            f"{endpoint}: folder {folder!r} cannot be opened ({_text(data)}); "
            "check the mailbox's IMAP folder list",
            FailureKind.FOLDER,
        )
    _, validity_data = conn.response("UIDVALIDITY")
    uidvalidity = int(validity_data[0]) if validity_data and validity_data[0] else 0
    last_uid = 0
    if checkpoint is not None and checkpoint.uidvalidity == uidvalidity:
        last_uid = checkpoint.last_uid
    exists = int(data[0] or 0) if data and data[0] else 0
    if exists == 0:
        return [], FolderCheckpoint(folder, uidvalidity, last_uid)
    typ, found = conn.uid("SEARCH", f"UID {last_uid + 1}:*")
    if typ != "OK":
        raise ImapError(f"{endpoint}: searching {folder!r} failed ({_text(found)})")
    # "n:*" always includes the highest UID, even when it is below n: filter again.
    uids = sorted(u for u in (int(x) for x in b" ".join(found or [b""]).split()) if u > last_uid)
    uids = uids[:budget]
    messages: list[FetchedMessage] = []
    for start in range(0, len(uids), _FETCH_BATCH):
        batch = uids[start : start + _FETCH_BATCH]
        messages.extend(_fetch_batch(conn, endpoint, folder, batch))
    messages.sort(key=lambda m: m.uid)
    new_last = max(uids) if uids else last_uid
    return messages, FolderCheckpoint(folder, uidvalidity, new_last)


def _fetch_batch(
    conn: imaplib.IMAP4, endpoint: Endpoint, folder: str, uids: list[int]
) -> list[FetchedMessage]:
    typ, data = conn.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    if typ != "OK":
        raise ImapError(f"{endpoint}: fetching from {folder!r} failed ({_text(data)})")
    wanted = set(uids)
    messages: list[FetchedMessage] = []
    items = list(data)
    for index, item in enumerate(items):
        if not isinstance(item, tuple):
            continue
        prefix, raw = item[0], item[1]
        match = _UID.search(prefix)
        if match is None and index + 1 < len(items) and isinstance(items[index + 1], bytes):
            match = _UID.search(items[index + 1])  # some servers send UID after the body
        if match is None:
            continue
        uid = int(match.group(1))
        if uid in wanted:  # skip unsolicited FETCH responses (flag updates)
            wanted.discard(uid)
            messages.append(FetchedMessage(folder=folder, uid=uid, raw=bytes(raw)))
    return messages


def quote_folder(name: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = _modified_utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _modified_utf7(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            b64 = base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",")
            out.append(f"&{b64}-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _text(value: object) -> str:
    if isinstance(value, list):
        value = b" ".join(v if isinstance(v, bytes) else str(v).encode() for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# --- proof of delivery: the copy a provider filed in the mailbox's Sent folder ------------

_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


@dataclass(frozen=True)
class SentSearch:
    folder: str  # the folder searched
    found: dict[str, bool]  # Message-ID (without brackets) → a copy is there


def search_sent(
    endpoint: Endpoint,
    password: str | None,
    message_ids: list[str],
    *,
    folder: str | None = None,
    timeout: float = 30.0,
    tls_context: ssl.SSLContext | None = None,
) -> SentSearch:
    """Which of `message_ids` have a copy in the Sent folder (read-only, one connection).

    The folder is `folder`, else the one the server marks `\\Sent` (RFC 6154 special use);
    each id is looked up with `UID SEARCH HEADER Message-ID "<id>"` (RFC 3501 6.4.4).
    Raises ImapError when the server cannot be reached or has no such folder.
    """
    if endpoint.scheme != "imap":
        raise ValueError(f"search_sent needs an imap endpoint, got {endpoint}")
    conn = _connect(endpoint, timeout, tls_context)
    try:
        _login(conn, endpoint, password)
        name = folder or sent_folder_of(conn, endpoint)
        typ, data = conn.select(quote_folder(name), readonly=True)  # EXAMINE
        if typ != "OK":
            raise ImapError(
                f"{endpoint}: Sent folder {name!r} cannot be opened ({_text(data)}); set the "
                "mailbox's sent folder (kadenz mailbox update NAME --sent-folder FOLDER)"
            )
        found: dict[str, bool] = {}
        for message_id in message_ids:
            bare = message_id.strip().strip("<>")
            if not bare or any(c in bare for c in '"\\\r\n\x00') or not bare.isascii():
                raise ValueError(f"not a Message-ID we generate: {message_id!r}")
            typ, hits = conn.uid("SEARCH", f'HEADER Message-ID "<{bare}>"')
            if typ != "OK":
                raise ImapError(f"{endpoint}: searching {name!r} failed ({_text(hits)})")
            found[bare] = bool(b" ".join(h for h in hits if h).split())
        return SentSearch(name, found)
    except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError) as exc:
        raise ImapError(f"{endpoint}: searching the Sent folder failed: {exc}") from exc
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


def sent_folder_of(conn: imaplib.IMAP4, endpoint: Endpoint) -> str:
    """The folder the server marks `\\Sent` (RFC 6154); ImapError when none is marked."""
    typ, lines = conn.list()
    if typ == "OK":
        for line in lines:
            if not isinstance(line, bytes):
                continue
            match = _LIST_LINE.match(line)
            if match and b"\\sent" in match.group("flags").lower().split():
                return _folder_name(match.group("name"))
    raise ImapError(
        f"{endpoint}: no folder is marked \\Sent (RFC 6154); name it with "
        "`kadenz mailbox update NAME --sent-folder FOLDER`"
    )


def _folder_name(raw: bytes) -> str:
    """A LIST response's mailbox name, unquoted and decoded from modified UTF-7."""
    text = raw.decode("ascii", "replace").strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return _from_modified_utf7(text)


def _from_modified_utf7(name: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(name):
        if name[i] == "&":
            end = name.index("-", i)
            chunk = name[i + 1 : end]
            if not chunk:
                out.append("&")
            else:
                b64 = chunk.replace(",", "/")
                b64 += "=" * (-len(b64) % 4)
                out.append(base64.b64decode(b64).decode("utf-16-be"))
            i = end + 1
        else:
            out.append(name[i])
            i += 1
    return "".join(out)

"""A real IMAP server for tests: Debian's Dovecot, configured in a temp dir, run in foreground.

    from tests.support.imap_server import Dovecot, dovecot_available

    with Dovecot(tmp_path) as server:           # one user: server.user / server.password
        server.port; server.url                  # imap://user@127.0.0.1:<port>
        server.append("INBOX", raw_bytes)        # deliver a message (IMAP APPEND)
        server.client()                          # a logged-in imaplib.IMAP4 for assertions

Nothing outside `tmp_path` is touched: own config (`-c`), base_dir, state and Maildirs; it
listens on 127.0.0.1 on a free port and stops with the context. Install with
`apt-get install dovecot-imapd` (`.ci/run` does this under CI). `imaps=True` also starts
an implicit-TLS listener (`server.tls_port`) with the SMTP sink's self-signed certificate.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)


def dovecot_available() -> bool:
    return DOVECOT is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """See the module docstring."""

    user = "anna@acme.example"
    password = "imap-secret"

    def __init__(self, root: Path, *, imaps: bool = False) -> None:
        if DOVECOT is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        self.root = root
        self.port = _free_port()
        self.tls_port = _free_port() if imaps else 0
        self.imaps = imaps
        self._process: subprocess.Popen[bytes] | None = None
        self._home: Path | None = None
        self._mail_uid = self._mail_gid = 0

    @property
    def url(self) -> str:
        return f"imap://{self.user}@127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        me = pwd.getpwuid(os.getuid())
        for sub in ("run", "state"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            # Dovecot never accesses mail as root: store it as `nobody`, in a directory that
            # user can reach (pytest's tmp_path sits under a root-only 0700 directory).
            nobody = pwd.getpwnam("nobody")
            self._mail_uid, self._mail_gid = nobody.pw_uid, nobody.pw_gid
            self._home = Path(tempfile.mkdtemp(prefix="kadenz-dovecot-"))
            os.chown(self._home, self._mail_uid, self._mail_gid)
        else:
            self._mail_uid, self._mail_gid = os.getuid(), os.getgid()
            self._home = self.root / "home"
            self._home.mkdir(exist_ok=True)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        ssl_lines = "ssl = no\n"
        if self.imaps:
            from tests.support.smtp_server import self_signed_certificate

            cert, key = self_signed_certificate()
            ssl_lines = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
        config = self.root / "dovecot.conf"
        config.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
{self._users_config(me.pw_name)}
first_valid_uid = 1
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={self._mail_uid} gid={self._mail_gid} home={self._home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
}}
service auth {{
  user = {me.pw_name}
}}
"""
        )
        return config

    @staticmethod
    def _users_config(me: str) -> str:
        if os.getuid() != 0:  # an ordinary user runs every process as itself
            return f"default_internal_user = {me}\ndefault_login_user = {me}"
        # As root, Dovecot refuses root login processes: use the package's own users.
        return "default_internal_user = dovecot\ndefault_login_user = dovenull"

    def start(self) -> Dovecot:
        config = self._write_config()
        assert DOVECOT is not None
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # startup readiness, not test synchronisation
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                log = (
                    (self.root / "dovecot.log").read_text()
                    if (self.root / "dovecot.log").exists()
                    else ""
                )
                raise RuntimeError(f"dovecot exited: {err}\n{log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("dovecot did not start listening within 15 s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()
        if self._home is not None and os.getuid() == 0:
            shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- helpers for tests ---

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, folder: str, raw: bytes, flags: str = "") -> None:
        conn = self.client()
        try:
            conn.create(folder)  # NO if it exists: fine
            typ, data = conn.append(folder, flags or None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

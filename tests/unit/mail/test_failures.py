"""Why a mailbox could not be reached, by exception and by message, and the fix named."""

from __future__ import annotations

import socket
import ssl

import pytest

from engine.mail.failures import FailureKind, fix, kind_of, kind_of_text


def _caused(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (socket.gaierror(-2, "Name or service not known"), FailureKind.DNS),
        (ConnectionRefusedError(111, "Connection refused"), FailureKind.REFUSED),
        (TimeoutError("timed out"), FailureKind.TIMEOUT),
        (ssl.SSLCertVerificationError("certificate verify failed"), FailureKind.TLS),
        (_caused(RuntimeError("wrapped"), socket.gaierror(-2, "x")), FailureKind.DNS),
        (RuntimeError("535 5.7.8 Authentication credentials invalid"), FailureKind.AUTH),
        (RuntimeError("something odd"), FailureKind.PROTOCOL),
    ],
)
def test_kind_of_exceptions(exc: BaseException, kind: FailureKind) -> None:
    assert kind_of(exc) == kind


def test_kind_of_text_reads_the_messages_we_write() -> None:
    missing = "environment variable ANNA is not set (it holds the password)"
    assert kind_of_text(missing) == FailureKind.PASSWORD_MISSING
    assert kind_of_text("smtp://x:587 does not offer STARTTLS") == FailureKind.TLS
    assert kind_of_text("a password is set but no username") == FailureKind.USERNAME_MISSING


def test_every_fix_names_a_setting_or_a_command() -> None:
    for kind in FailureKind:
        text = fix(kind, mailbox="anna", direction="imap", password_env="ANNA_PW")
        assert text, kind
        if kind not in (FailureKind.FOLDER, FailureKind.PROTOCOL):
            assert "ANNA_PW" in text or "kadenz mailbox update anna" in text, kind
    unnamed = fix(FailureKind.PASSWORD_MISSING, mailbox="anna", direction="smtp", password_env=None)
    assert unnamed.endswith("kadenz mailbox update anna --password-env NAME")

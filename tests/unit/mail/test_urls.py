from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.mail.urls import Endpoint, parse_imap_url, parse_smtp_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example", Endpoint("smtp", "relay.example", 25, "plain", None)),
        ("smtp://127.0.0.1:2525", Endpoint("smtp", "127.0.0.1", 2525, "plain", None)),
        (
            "smtp+starttls://anna%40acme.example@mail.acme.example",
            Endpoint("smtp", "mail.acme.example", 587, "starttls", "anna@acme.example"),
        ),
        (
            "SMTPS://anna@mail.acme.example",
            Endpoint("smtp", "mail.acme.example", 465, "tls", "anna"),
        ),
        ("smtps://h.example:2465/", Endpoint("smtp", "h.example", 2465, "tls", None)),
    ],
)
def test_smtp_urls(url: str, expected: Endpoint) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("imap://mail.example", Endpoint("imap", "mail.example", 143, "plain", None)),
        ("imap+starttls://u@mail.example", Endpoint("imap", "mail.example", 143, "starttls", "u")),
        ("imaps://u@mail.example", Endpoint("imap", "mail.example", 993, "tls", "u")),
        ("imaps://[::1]:1993", Endpoint("imap", "::1", 1993, "tls", None)),
    ],
)
def test_imap_urls(url: str, expected: Endpoint) -> None:
    assert parse_imap_url(url) == expected


def test_password_in_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidInput, match="--password-env") as caught:
        parse_smtp_url("smtps://anna:hunter2@mail.acme.example")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("http://mail.example", "use one of smtp://, smtp\\+starttls://, smtps://"),
        ("mail.example:25", "unknown scheme"),
        ("smtp://", "no host"),
        ("smtp://mail.example:99999", "port"),
        ("smtp://mail.example/inbox", "unexpected path"),
    ],
)
def test_bad_smtp_urls_say_how_to_fix(url: str, hint: str) -> None:
    with pytest.raises(InvalidInput, match=hint):
        parse_smtp_url(url)


def test_smtp_scheme_is_not_an_imap_url() -> None:
    with pytest.raises(InvalidInput, match="imaps://"):
        parse_imap_url("smtps://mail.example")


def test_endpoint_prints_without_secrets() -> None:
    assert (
        str(parse_smtp_url("smtp+starttls://anna@h.example"))
        == "smtp+starttls://anna@h.example:587"
    )

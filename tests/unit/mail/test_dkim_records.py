"""DKIM keys and records (engine.mail.dkim): what `kadenz domain add` prints is valid DNS."""

from __future__ import annotations

import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from engine.errors import InvalidInput
from engine.mail import dkim


def test_the_zone_line_parses_and_carries_the_public_key() -> None:
    key = dkim.load_key("acme.example", "k1", dkim.generate_pem(), "test")
    line = dkim.zone_line("acme.example", "k1", key.public_key)
    zone = dns.zone.from_text(
        "$TTL 300\n@ SOA ns hostmaster 1 1 1 1 1\n" + line, origin="acme.example",
        check_origin=False,
    )  # fmt: skip
    rdataset = zone.find_rdataset("k1._domainkey", dns.rdatatype.TXT)
    (record,) = list(rdataset)
    assert all(len(s) <= 255 for s in record.strings)  # RFC 1035 character-strings
    text = b"".join(record.strings).decode()
    assert text == dkim.record_value(key.public_key)
    assert dkim.public_key_of(text) == key.public_key
    assert "PRIVATE" not in repr(key) and "PRIVATE" not in str(key)


@pytest.mark.parametrize("selector", ["", "-k1", "k_1", "a" * 64, "k1.k2"])
def test_bad_selectors_are_refused(selector: str) -> None:
    with pytest.raises(InvalidInput, match="is not a DNS label"):
        dkim.check_selector(selector)


def test_an_unreadable_key_names_its_place_never_its_content() -> None:
    with pytest.raises(InvalidInput) as err:
        dkim.load_key("acme.example", "k1", b"-----BEGIN NONSENSE-----\nabc\n", "/keys/x.pem")
    assert str(err.value).startswith("/keys/x.pem: cannot read the DKIM key")
    assert "abc" not in str(err.value)

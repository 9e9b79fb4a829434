"""The import's per-domain validation cache agrees with addresses.normalise exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core import addresses
from engine.people.csv_import import AddressCache

CASES = [
    "Erik@ACME.Example",
    " erik@acme.example ",
    "first.last+tag@sub.acme.example",
    "a..b@acme.example",
    ".a@acme.example",
    "a.@acme.example",
    "a" * 64 + "@acme.example",
    "a" * 65 + "@acme.example",
    "x@localhost",
    "x@acme.test",
    "x@-acme.example",
    "x@acme..example",
    "x@xn--mller-kva.example",
    "jürgen@müller.example",
    '"quoted name"@acme.example',
    "no-at-sign",
    "two@@acme.example",
    "x@acme.example.",
    "x@[127.0.0.1]",
    "",
]


def outcome(normalise: object, raw: str) -> tuple[str, str] | str:
    try:
        address = normalise(raw)  # type: ignore[operator]
    except addresses.InvalidAddress as exc:
        return f"invalid: {exc}"
    return (address.email, address.key)


@pytest.mark.parametrize("raw", CASES)
def test_same_result_as_email_validator(raw: str) -> None:
    cache = AddressCache()
    first = outcome(cache.normalise, raw)
    assert first == outcome(addresses.normalise, raw)
    assert outcome(cache.normalise, raw) == first  # and again, from the cache


local = st.text(alphabet="abcXYZ09.!#$%&'*+/=?^_`{|}~-\"ü", min_size=0, max_size=12)
domain = st.sampled_from(
    ["acme.example", "ACME.example", "a-b.example", "localhost", "acme.test", "-x.example", "b."]
)


@settings(max_examples=300, deadline=None)
@given(local, domain)
def test_random_addresses_agree(local_part: str, domain_part: str) -> None:
    raw = f"{local_part}@{domain_part}"
    assert outcome(AddressCache().normalise, raw) == outcome(addresses.normalise, raw)

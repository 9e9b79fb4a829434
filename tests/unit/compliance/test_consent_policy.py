"""The consent decision (engine.people.consent): rules, jurisdiction, policy parsing."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import InvalidInput
from engine.people import consent
from engine.people.consent import Facts, Rule

POLICY = consent.parse(
    {
        "default": "opt_out",
        "countries": {
            "DE": "consent_required",
            "at": "consent_required",
            "GB": "opt_out_corporate",
        },
        "postal_address": ["US"],
    }
)


def facts(email: str, country: str | None = None, given: date | None = None) -> Facts:
    return Facts(email, country, "form" if given else None, given)


@pytest.mark.parametrize(
    ("email", "country", "given", "allowed", "where"),
    [
        ("jana@gamma.example", "DE", None, False, "DE (country)"),
        ("jana@gamma.example", "DE", date(2026, 1, 2), True, "DE (country)"),
        ("max@firma.at", None, None, False, "AT (.at address)"),
        ("max@firma.at", "US", None, True, "US (country)"),  # the country column wins
        ("ann@shop.co.uk", None, None, True, "GB (.uk address)"),  # corporate
        ("ann.b@gmail.com", "GB", None, False, "GB (country)"),  # personal address
        ("dev@startup.io", None, None, True, "default (no country known)"),  # .io: no place
        ("x@example.com", None, None, True, "default (no country known)"),
    ],
)
def test_decide(
    email: str, country: str | None, given: date | None, allowed: bool, where: str
) -> None:
    decision = consent.decide(POLICY, facts(email, country, given))
    assert (decision.allowed, decision.jurisdiction) == (allowed, where)
    if not allowed:
        assert decision.reason.startswith("consent: ")
        assert f"kadenz consent record {email}" in decision.reason


def test_the_policy_round_trips_and_knows_the_footer_countries() -> None:
    again = consent.parse(consent.to_document(POLICY))
    assert again == POLICY
    assert again.rule_for("AT") == Rule.CONSENT_REQUIRED and again.rule_for("FR") == Rule.OPT_OUT
    assert again.needs_postal_address("US") and not again.needs_postal_address("DE")
    assert consent.parse({"postal_address": "all"}).needs_postal_address(None)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"default": "maybe"}, "x: default: 'maybe' is not a rule"),
        ({"countries": {"XX": "opt_out"}}, "x: countries: 'XX' is not an ISO 3166-1 country code"),
        ({"without_consent": "drop"}, "x: without_consent: 'drop' is not one of hold, skip_email"),
        ({"postal_adress": ["US"]}, "x: unknown key 'postal_adress'"),
        ({"postal_address": "US"}, "x: postal_address: give a list of countries"),
    ],
)
def test_bad_documents_name_the_key(document: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        consent.parse(document, "x")
    assert str(err.value).startswith(message)


def test_dates_in_iso_and_german_form() -> None:
    assert consent.parse_date("2026-03-01", "d") == date(2026, 3, 1)
    assert consent.parse_date("01.03.2026", "d") == date(2026, 3, 1)
    with pytest.raises(InvalidInput, match=r"'31\.02\.2026' is not a date"):
        consent.parse_date("31.02.2026", "d")

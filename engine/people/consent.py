"""Consent by jurisdiction: may this prospect be emailed without their recorded consent?

The workspace pushes a consent policy (docs/compliance.md; not legal advice):

    consent:
      default: opt_out
      countries: {DE: consent_required, AT: consent_required, US: opt_out, GB: opt_out_corporate}
      without_consent: hold            # or skip_email: the email is cancelled, calls/tasks go on
      postal_address: [US]             # emails to these countries need KADENZ_POSTAL_ADDRESS

A prospect's jurisdiction is their `country`, else the country-code TLD of their address
(`.de` → DE, `.uk` → GB), else the policy's `default`. Consent is a source and a date,
recorded by import (CSV columns `consent_source`, `consent_date`), the API or the CLI.

This module is pure policy: parsing the document and deciding. The sender asks `decide`
right before an email leaves (engine.outbound.gate); `explain` and `simulate` ask the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from engine.core import addresses
from engine.errors import InvalidInput
from engine.people.countries import COUNTRY_NAMES

POLICY_NAME = "consent"  # its name in workspace_policies and its section in a policy file


class Rule(StrEnum):
    CONSENT_REQUIRED = "consent_required"  # no email without recorded prior consent
    OPT_OUT = "opt_out"  # email allowed; every message carries a working opt-out
    OPT_OUT_CORPORATE = "opt_out_corporate"  # opt-out for company addresses, consent otherwise


class WithoutConsent(StrEnum):
    HOLD = "hold"  # the email waits (and the enrollment with it) until consent is recorded
    SKIP_EMAIL = "skip_email"  # the email is cancelled; the sequence goes on (calls, tasks)


# Country-code TLDs whose ISO 3166 code differs (IANA root zone vs ISO 3166-1).
_TLD_TO_COUNTRY = {"uk": "GB"}
# Generic or not-a-country ccTLDs that say nothing about where a person is.
_NOT_A_PLACE = {"io", "co", "ai", "me", "tv", "eu", "cc", "fm", "ly", "gg", "to", "ws", "app"}


@dataclass(frozen=True)
class Policy:
    default: Rule = Rule.OPT_OUT
    countries: Mapping[str, Rule] = field(default_factory=dict)
    without_consent: WithoutConsent = WithoutConsent.HOLD
    postal_address: frozenset[str] = frozenset()  # ISO codes, or {"*"} for every email

    def rule_for(self, country: str | None) -> Rule:
        if country is None:
            return self.default
        return self.countries.get(country, self.default)

    def needs_postal_address(self, country: str | None) -> bool:
        return "*" in self.postal_address or (country or "") in self.postal_address


NO_POLICY = Policy()


@dataclass(frozen=True)
class Facts:
    """What the decision reads of a prospect."""

    email: str
    country: str | None
    consent_source: str | None
    consent_date: date | None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    jurisdiction: str  # "DE (country)", "DE (.de address)", "default"
    rule: Rule
    reason: str  # one line for held_reason and explain


def jurisdiction(facts: Facts) -> tuple[str | None, str]:
    """(ISO code or None, where it came from)."""
    if facts.country:
        return facts.country.upper(), "country"
    tld = facts.email.rpartition(".")[2].lower()
    code = _TLD_TO_COUNTRY.get(tld, tld.upper())
    if len(tld) == 2 and tld not in _NOT_A_PLACE and code in COUNTRY_NAMES:
        return code, f".{tld} address"
    return None, "no country known"


def decide(policy: Policy, facts: Facts) -> Decision:
    country, source = jurisdiction(facts)
    rule = policy.rule_for(country)
    where = f"{country} ({source})" if country else f"default ({source})"
    consented = facts.consent_date is not None
    if consented:
        return Decision(True, where, rule, f"consent recorded {facts.consent_date} "
                        f"({facts.consent_source or 'source not given'})")  # fmt: skip
    if rule == Rule.OPT_OUT:
        return Decision(True, where, rule, f"{where}: opt_out, email allowed with an opt-out")
    if rule == Rule.OPT_OUT_CORPORATE:
        domain = facts.email.rpartition("@")[2]
        if not addresses.is_free_mail(domain):
            return Decision(True, where, rule, f"{where}: opt_out_corporate, company address")
        return Decision(
            False,
            where,
            rule,
            f"consent: {where} needs consent for a personal address ({domain}) and none is "
            f"recorded (record it: kadenz consent record {facts.email} --source … --date …)",
        )
    return Decision(
        False,
        where,
        rule,
        f"consent: {where} requires prior consent (consent_required) and none is recorded "
        f"(record it: kadenz consent record {facts.email} --source … --date …)",
    )


def parse(document: Any, where: str = "consent policy") -> Policy:
    """The `consent:` section of a policy document; errors name the key and the fix."""
    if document is None:
        return NO_POLICY
    if not isinstance(document, Mapping):
        raise InvalidInput(f"{where}: expected a mapping with default, countries, …")
    known = {"default", "countries", "without_consent", "postal_address"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    default = _rule(document.get("default", Rule.OPT_OUT), f"{where}: default")
    countries_raw = document.get("countries") or {}
    if not isinstance(countries_raw, Mapping):
        raise InvalidInput(f"{where}: countries must map ISO codes to rules, e.g. DE: "
                           "consent_required")  # fmt: skip
    countries = {
        _country(code, f"{where}: countries"): _rule(rule, f"{where}: countries.{code}")
        for code, rule in countries_raw.items()
    }
    mode_raw = document.get("without_consent", WithoutConsent.HOLD)
    try:
        mode = WithoutConsent(str(mode_raw))
    except ValueError:
        raise InvalidInput(
            f"{where}: without_consent: {mode_raw!r} is not one of "
            f"{', '.join(m.value for m in WithoutConsent)}"
        ) from None
    postal_raw = document.get("postal_address") or []
    if postal_raw == "all" or postal_raw is True:
        postal = frozenset({"*"})
    elif isinstance(postal_raw, list):
        postal = frozenset(_country(c, f"{where}: postal_address") for c in postal_raw)
    else:
        raise InvalidInput(f"{where}: postal_address: give a list of countries (e.g. [US]) "
                           "or all")  # fmt: skip
    return Policy(default, countries, mode, postal)


def to_document(policy: Policy) -> dict[str, Any]:
    """The JSON form kept in the database (what `parse` reads back)."""
    return {
        "default": policy.default.value,
        "countries": {c: r.value for c, r in sorted(policy.countries.items())},
        "without_consent": policy.without_consent.value,
        "postal_address": "all" if "*" in policy.postal_address else sorted(policy.postal_address),
    }


def _rule(value: Any, where: str) -> Rule:
    try:
        return Rule(str(value))
    except ValueError:
        raise InvalidInput(
            f"{where}: {value!r} is not a rule (use {', '.join(r.value for r in Rule)})"
        ) from None


def _country(value: Any, where: str) -> str:
    code = str(value).strip().upper()
    if code not in COUNTRY_NAMES:
        raise InvalidInput(f"{where}: {value!r} is not an ISO 3166-1 country code (e.g. DE)")
    return code


def parse_date(value: str, where: str) -> date:
    """ISO 2026-03-01, or the German 01.03.2026 of Excel exports."""
    text = value.strip()
    try:
        if "." in text:
            day, month, year = (int(p) for p in text.split("."))
            return date(year, month, day)
        return date.fromisoformat(text[:10])
    except (ValueError, OverflowError):
        raise InvalidInput(f"{where}: {value!r} is not a date (write 2026-03-01)") from None

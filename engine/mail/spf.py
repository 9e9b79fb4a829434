"""Does a domain's SPF record (RFC 7208) permit an IP address? Enough of SPF to tell.

`permits(resolver, domain, ip)` evaluates the record the way a receiver does for the
mechanisms that decide most real records — ip4, ip6, a, mx, include, redirect, all — with
the RFC's limit of 10 DNS-querying terms. `exists`, `ptr` and macros cannot be judged
offline: meeting one makes the answer "unknown", never a guess.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from engine.mail.resolver import Resolver

MAX_LOOKUPS = 10  # RFC 7208 4.6.4


class _Unknown(Exception):
    pass


@dataclass(frozen=True)
class Verdict:
    result: str  # pass | fail | softfail | neutral | none | unknown | permerror
    detail: str  # the term that decided, or why it could not be decided


def spf_records(resolver: Resolver, domain: str) -> list[str]:
    return [t for t in resolver.txt(domain) if t.lower().split(" ", 1)[0] == "v=spf1"]


def permits(resolver: Resolver, domain: str, ip: str) -> Verdict:
    address = ipaddress.ip_address(ip)
    budget = [MAX_LOOKUPS]
    try:
        return _check(resolver, domain, address, budget)
    except _Unknown as exc:
        return Verdict("unknown", str(exc))


_QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


def _check(
    resolver: Resolver,
    domain: str,
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    budget: list[int],
) -> Verdict:
    records = spf_records(resolver, domain)
    if not records:
        return Verdict("none", f"{domain} has no SPF record")
    if len(records) > 1:
        return Verdict("permerror", f"{domain} has {len(records)} SPF records (RFC 7208 allows 1)")
    redirect = None
    for term in records[0].split()[1:]:
        if "%{" in term:
            raise _Unknown(f"macro in {term!r}")
        if term.lower().startswith("redirect="):
            redirect = term.split("=", 1)[1]
            continue
        if "=" in term.split(":", 1)[0]:
            continue  # another modifier (exp=…)
        qualifier = "+"
        if term[0] in _QUALIFIERS:
            qualifier, term = term[0], term[1:]
        if _matches(resolver, domain, term, ip, budget):
            return Verdict(_QUALIFIERS[qualifier], f"{qualifier}{term} in {domain}")
    if redirect:
        _spend(budget)
        return _check(resolver, redirect, ip, budget)
    return Verdict("neutral", f"no term of {domain}'s SPF record matched")


def _spend(budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise _Unknown("more than 10 DNS lookups (RFC 7208 4.6.4: a permerror at receivers)")


def _matches(
    resolver: Resolver,
    domain: str,
    term: str,
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    budget: list[int],
) -> bool:
    name, _, arg = term.partition(":")
    name = name.lower()
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        try:
            return ip in ipaddress.ip_network(arg, strict=False)
        except ValueError:
            return False
    if name == "include":
        _spend(budget)
        return _check(resolver, arg, ip, budget).result == "pass"
    base, cidr4, cidr6 = _split_cidr(name, arg, domain)
    if base in ("a", "mx"):
        _spend(budget)
        target = arg.split("/")[0] if arg else domain
        hosts = [target] if base == "a" else [h for _, h in resolver.mx(target)]
        for host in hosts:
            for found in resolver.addresses(host):
                candidate = ipaddress.ip_address(found)
                bits = cidr4 if candidate.version == 4 else cidr6
                if ip in ipaddress.ip_network(f"{candidate}/{bits}", strict=False):
                    return True
        return False
    if base in ("exists", "ptr"):
        raise _Unknown(f"the {base} mechanism cannot be judged here")
    return False


def _split_cidr(name: str, arg: str, domain: str) -> tuple[str, int, int]:
    """a/24, mx:host/24//64 → ("a" | "mx", 24, 64)."""
    text = f"{name}:{arg}" if arg else name
    cidr4, cidr6 = 32, 128
    if "//" in text:
        text, _, six = text.partition("//")
        cidr6 = int(six)
    if "/" in text:
        text, _, four = text.partition("/")
        cidr4 = int(four)
    base = text.split(":", 1)[0]
    return base, cidr4, cidr6

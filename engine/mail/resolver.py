"""DNS lookups for the domain checks and DKIM: TXT, MX and addresses, with honest failures.

"The record does not exist" (NXDOMAIN, no answer) is an answer: an empty list. "We could not
ask" (timeout, SERVFAIL, no server reachable) is `DnsUnavailable`, whose message names the
fix — a check must never report a missing record when it simply could not look.

`KADENZ_DNS_NAMESERVERS` (comma-separated `host` or `host:port`) replaces the system
resolver, e.g. a local validating resolver, or the tests' own DNS server.
"""

from __future__ import annotations

from typing import Any

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from engine.errors import KadenzError


class DnsUnavailable(KadenzError):
    """A lookup could not be answered (timeout, SERVFAIL, unreachable server)."""


class Resolver:
    def __init__(self, nameservers: str = "", timeout: float = 5.0) -> None:
        self._resolver = dns.resolver.Resolver(configure=not nameservers.strip())
        if nameservers.strip():
            self._resolver.nameservers = [_nameserver(s) for s in nameservers.split(",")]
        self._resolver.lifetime = timeout
        self._resolver.timeout = timeout
        self.described = nameservers.strip() or "the system resolver"

    def txt(self, name: str) -> list[str]:
        """Each TXT record of `name`, its strings joined (RFC 7208 3.3)."""
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self._query(name, "TXT")]

    def mx(self, domain: str) -> list[tuple[int, str]]:
        return sorted(
            (int(r.preference), r.exchange.to_text(omit_final_dot=True).lower())
            for r in self._query(domain, "MX")
        )

    def addresses(self, host: str) -> list[str]:
        """IPv4 and IPv6 addresses of `host`."""
        found: list[str] = []
        for kind in ("A", "AAAA"):
            found.extend(r.to_text() for r in self._query(host, kind))
        return found

    def _query(self, name: str, kind: str) -> list[Any]:
        try:
            answer = self._resolver.resolve(name, kind, raise_on_no_answer=False, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.resolver.NoNameservers as exc:
            raise DnsUnavailable(
                f"DNS lookup of {kind} {name} failed at every server ({exc}); check "
                f"KADENZ_DNS_NAMESERVERS ({self.described})"
            ) from None
        except dns.exception.Timeout:
            raise DnsUnavailable(
                f"DNS lookup of {kind} {name} timed out; check the network or "
                f"KADENZ_DNS_NAMESERVERS ({self.described})"
            ) from None
        except dns.exception.DNSException as exc:
            raise DnsUnavailable(f"DNS lookup of {kind} {name} failed: {exc}") from None
        if answer.rrset is None:
            return []
        return list(answer.rrset)


def _nameserver(text: str) -> dns.nameserver.Do53Nameserver:
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):  # [::1]:5353
        host, _, rest = text[1:].partition("]")
        port = int(rest.lstrip(":") or 53)
    elif text.count(":") == 1:
        host, _, raw = text.partition(":")
        port = int(raw)
    return dns.nameserver.Do53Nameserver(host, port)


def get_txt_for_dkim(resolver: Resolver) -> object:
    """A `dnsfunc` for dkimpy's verifier that asks through `resolver`."""

    def dnsfunc(name: bytes | str, timeout: float = 5.0) -> bytes | None:
        text = name.decode() if isinstance(name, bytes) else name
        records = resolver.txt(text.rstrip("."))
        return records[0].encode() if records else None

    return dnsfunc

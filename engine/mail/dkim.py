"""DKIM (RFC 6376): a key, the DNS TXT record that publishes it, and the signature.

Keys are RSA 2048 (RFC 8301 requires at least 1024 bits; 2048 fits one DNS TXT record in
255-byte strings). Signatures are rsa-sha256 with relaxed/relaxed canonicalization, which
survives the header re-folding some relays do; `From` is over-signed (listed twice, RFC 6376
8.15) so a header added in transit breaks the signature instead of riding on it.

No private key is ever logged or put in an error message: errors name the file or variable.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.errors import InvalidInput

KEY_BITS = 2048
_SELECTOR = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TXT_CHUNK = 255  # one <character-string> of a TXT record (RFC 1035 3.3.14)
# The headers we write (engine.mail.compose) that a receiver should see unchanged.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key, as dkimpy wants it (PKCS#1 PEM), and its public half."""

    domain: str
    selector: str
    private_pem: bytes
    public_key: str  # base64 DER SubjectPublicKeyInfo: the p= of the DNS record

    def __repr__(self) -> str:  # never print the key
        return f"SigningKey({self.selector}._domainkey.{self.domain})"


def check_selector(selector: str) -> str:
    if not _SELECTOR.match(selector):
        raise InvalidInput(
            f"--selector: {selector!r} is not a DNS label (letters, digits and '-', e.g. k2026)"
        )
    return selector


def generate_pem() -> bytes:
    """A new RSA private key as PKCS#1 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def load_key(domain: str, selector: str, pem: bytes, where: str) -> SigningKey:
    """Parse a PEM private key (PKCS#1 or PKCS#8, unencrypted RSA); `where` names its source."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        reason = "it is encrypted" if "encrypted" in str(exc).lower() else "it is not a PEM key"
        raise InvalidInput(
            f"{where}: cannot read the DKIM key ({reason}); give an unencrypted RSA key in PEM "
            "(e.g. `openssl genrsa 2048`)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidInput(f"{where}: the DKIM key must be RSA (rsa-sha256, RFC 8301)")
    if key.key_size < 1024:
        raise InvalidInput(f"{where}: RSA key of {key.key_size} bits; RFC 8301 requires ≥ 1024")
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(domain, selector, private_pem, base64.b64encode(public_der).decode())


def record_name(domain: str, selector: str) -> str:
    return f"{selector}._domainkey.{domain}"


def record_value(public_key: str) -> str:
    """The TXT record's text (RFC 6376 3.6.1)."""
    return f"v=DKIM1; k=rsa; p={public_key}"


def zone_line(domain: str, selector: str, public_key: str) -> str:
    """The record as a zone-file line, split into ≤255-byte strings as DNS requires."""
    value = record_value(public_key)
    chunks = [value[i : i + _TXT_CHUNK] for i in range(0, len(value), _TXT_CHUNK)]
    quoted = " ".join(f'"{c}"' for c in chunks)
    return f"{record_name(domain, selector)}. 3600 IN TXT ( {quoted} )"


def public_key_of(txt: str) -> str | None:
    """The p= of a DKIM TXT record's text, whitespace removed; None if it has none."""
    for tag in txt.split(";"):
        name, _, value = tag.partition("=")
        if name.strip() == "p":
            return "".join(value.split())
    return None


def sign(data: bytes, key: SigningKey) -> bytes:
    """`data` (a complete message, CRLF line endings) with a DKIM-Signature prepended."""
    present = {line.split(b":", 1)[0].strip().lower() for line in _header_lines(data)}
    include = [h for h in SIGNED_HEADERS if h in present] + [b"from"]  # over-sign From
    signature = dkim.sign(
        data,
        key.selector.encode(),
        key.domain.encode(),
        key.private_pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    return bytes(signature) + data


def _header_lines(data: bytes) -> list[bytes]:
    head = data.split(b"\r\n\r\n", 1)[0]
    return [line for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]

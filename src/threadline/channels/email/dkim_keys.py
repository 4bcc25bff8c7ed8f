"""DKIM keys of an email channel: a new RSA key pair, and the DNS TXT record that publishes its public half.

`sending.dkim_sign` signs outbound mail with the channel's `dkim_selector` and `dkim_private_key` (for the
domain of its address); receivers check the signature against `<selector>._domainkey.<domain>`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_BITS = 2048
SELECTOR = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class DnsRecord:
    name: str
    value: str


def new_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def dns_record(address: str, selector: str, private_key: str) -> DnsRecord | None:
    """The TXT record to publish for this key, or None when the key cannot be read."""
    try:
        key = serialization.load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        return None
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    domain = address.partition("@")[2]
    return DnsRecord(f"{selector}._domainkey.{domain}", f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}")

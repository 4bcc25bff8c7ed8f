"""The private-address policy of every outbound connection a workspace can point somewhere (SSRF).

Webhook URLs, provider APIs, an email channel's SMTP relay and IMAP host: a destination that resolves to a
private, loopback, link-local or otherwise non-public address is refused unless the operator set
THREADLINE_OUTBOUND_ALLOW_PRIVATE. A host is resolved once, every address it resolves to is checked, and
the connection goes to one of those checked addresses (never resolved again: no DNS-rebinding window); TLS
still verifies the certificate against the host name.

`check_for_config` is the early check when a URL or host is saved (400 on a private one); the check that
counts is the one at connection time, because DNS can change in between.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings
from django.utils.translation import gettext as _

from threadline.core.errors import ValidationFailed


class DestinationRefused(Exception):
    """The destination is not a public address (or not a usable URL)."""


class Unresolvable(DestinationRefused):
    """The host name does not resolve."""


def private_allowed() -> bool:
    return bool(settings.THREADLINE["OUTBOUND_ALLOW_PRIVATE"])


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, *, trusted: bool = False) -> list[str]:
    """The addresses of `host`, resolved once; DestinationRefused when any is not public (unless allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Unresolvable(f"cannot resolve {host}")
    if not (trusted or private_allowed()) and not all(is_public(a) for a in addresses):
        raise DestinationRefused(f"{host} resolves to a non-public address")
    return addresses


def connect(host: str, port: int, timeout: float | None, *, trusted: bool = False) -> socket.socket:
    """A TCP connection to `host` made to the addresses checked by `resolve` (tried in order)."""
    last: OSError | None = None
    for address in resolve(host, port, trusted=trusted):
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            last = exc
    assert last is not None
    raise last


def check_for_config(host: str, port: int) -> None:
    """When a destination is saved: refuse one that resolves to a private address now. A name that does not
    resolve yet is accepted (the check at connection time still applies)."""
    if private_allowed():
        return
    try:
        resolve(host, port)
    except Unresolvable:
        return


def refuse_private(host: str, port: int, *, field: str) -> None:
    """`check_for_config` for an action: ValidationFailed (400, code `private_destination`)."""
    try:
        check_for_config(host, port)
    except DestinationRefused as exc:
        raise ValidationFailed(
            _("%(host)s points to a private or local network address, which is not allowed.") % {"host": host},
            code="private_destination", field=field,
        ) from exc

"""The client's address: `REMOTE_ADDR`, or what a trusted proxy says in `X-Forwarded-For`.

`X-Forwarded-For` is anyone's to write, so it is read only when the connection comes from a proxy listed in
THREADLINE_TRUSTED_PROXIES (addresses or CIDR networks), and then from the right: each trusted proxy appends
the address it saw, so the first hop from the right that is not a trusted proxy is the client. Whatever a
client put further left is never believed. `threadline serve` hands the same list to uvicorn, which would
otherwise trust loopback.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def is_trusted(value: str, networks: Iterable[Network]) -> bool:
    address = _address(value)
    return address is not None and any(address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(settings.THREADLINE.get("TRUSTED_PROXIES") or ()))
    if not networks or not is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # garbage where the client should be: keep the last address we can vouch for
        if not is_trusted(hop, networks):
            return str(address)
        peer = str(address)
    return peer

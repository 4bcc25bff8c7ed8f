"""Where raw mail enters: which channel an address belongs to, and storing a message before saying yes.

Shared by the SMTP listener and the IMAP poller. `store` writes the InboundEvent and its processing job in
one transaction through `channels.inbound.accept_inbound`, so a caller that gets it back can acknowledge
(SMTP 250, IMAP \\Seen) knowing the message is committed; a duplicate Message-ID is acknowledged too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from threadline.channels.email.adapter import EmailChannelConfig, config_of, idempotency_key_for
from threadline.channels.email.models import EmailClaim
from threadline.channels.inbound import accept_inbound
from threadline.channels.models import Channel, InboundEvent
from threadline.core.prepared import Prepared
from threadline.core.time import now


@dataclass(frozen=True)
class Route:
    channel: Channel
    config: EmailChannelConfig


def email_channels() -> list[Route]:
    routes = []
    for channel in Channel.objects.filter(kind="email", is_active=True).order_by("id"):
        try:
            routes.append(Route(channel, config_of(channel)))
        except ValueError:
            continue
    return routes


def route(address: str) -> Route | None:
    """The channel that receives mail for `address`: its claim (exact, plus-addressed or alias), else the
    verified catch-all claim of its domain (see claims.py); None when no active channel owns it."""
    address = (address or "").strip().strip("<>").lower()
    local, _sep, domain = address.rpartition("@")
    if not local or not domain:
        return None
    base = f"{local.partition('+')[0]}@{domain}"
    found = _CLAIM.all(base, domain)  # the address's claim and the domain's verified one, the address first
    if not found:
        return None
    claim = found[0]
    try:
        return Route(claim.channel, config_of(claim.channel))
    except ValueError:
        return None


# One prepared query instead of two built at each RCPT and DATA: an address claim sorts before a domain's
# ("address" < "domain"); at most one of each exists (a claim's value is unique per kind).
_CLAIM = Prepared(lambda address, domain: EmailClaim.objects.select_related("channel").filter(
    Q(kind=EmailClaim.Kind.ADDRESS, value=address)
    | Q(kind=EmailClaim.Kind.DOMAIN, value=domain, verified_at__isnull=False),
    channel__is_active=True, channel__kind="email",
).order_by("kind"))


def sender_over_limit(route_: Route, envelope_from: str) -> bool:
    """True when this envelope sender sent more than the channel's hourly limit: defer them (loop breaker)."""
    sender = (envelope_from or "").strip("<>").lower()
    if not sender:
        return False
    since = now() - dt.timedelta(hours=1)
    count = InboundEvent.objects.filter(
        channel=route_.channel, created_at__gte=since, **{"headers__mail-from": sender}
    ).count()
    return count >= route_.config.sender_rate_limit_per_hour * 2


def store(
    channel: Channel, raw: bytes, *, transport: str, envelope_from: str | None, recipients: list[str],
    key: str = "", extra: dict[str, str] | None = None,
) -> tuple[InboundEvent | None, bool]:
    """Commit the raw message for `channel`; (event, True) when new, (existing, False) when a duplicate."""
    headers = {
        "x-threadline-transport": transport,
        "mail-from": (envelope_from or "").strip("<>").lower() if envelope_from is not None else "",
        "rcpt-to": ",".join(r.strip("<>").lower() for r in recipients)[:2000],
        **(extra or {}),
    }
    if envelope_from is not None and envelope_from.strip() in ("", "<>"):
        headers["null-sender"] = "1"
    return accept_inbound(channel, key or idempotency_key_for(raw), raw, headers)

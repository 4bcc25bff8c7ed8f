"""Who owns an inbound address or a catch-all domain: one channel of one workspace, installation-wide.

`do_sync_claims` runs whenever an email channel's config is written: it claims the address, the aliases and
the catch-all domains, and raises Conflict (409) when another channel owns one already (or when an address
sits under a domain another workspace has proven it owns). A domain claim routes mail only once verified:
`verify_domain` looks for the TXT record `threadline-verify=<token>` at `_threadline.<domain>` (resolver:
THREADLINE_DNS_NAMESERVERS, else the system's), and the operator can vouch for a domain by hand
(`threadline email verify-domain DOMAIN --force`). See docs/security.md.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from threadline.channels.email.models import EmailClaim
from threadline.channels.models import Channel
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.time import now

logger = logging.getLogger(__name__)

TXT_PREFIX = "threadline-verify="
DNS_TIMEOUT = 5.0


@dataclass(frozen=True)
class Wanted:
    addresses: frozenset[str]
    domains: frozenset[str]


def wanted_of(config: dict) -> Wanted:
    addresses = {config.get("address", ""), *config.get("aliases", [])}
    domains = {d.strip().lower().lstrip("@") for d in config.get("catch_all_domains", [])}
    return Wanted(frozenset(a for a in addresses if a), frozenset(d for d in domains if d))


def record_name(domain: str) -> str:
    return f"_threadline.{domain}"


def record_value(claim: EmailClaim) -> str:
    return f"{TXT_PREFIX}{claim.verification_token}"


def _taken(value: str, owner: EmailClaim, channel: Channel) -> Conflict:
    if owner.workspace_id == channel.workspace_id:
        message = _("%(value)s is already used by the channel %(channel)s.") % {
            "value": value, "channel": owner.channel.name}
    else:
        message = _("%(value)s belongs to another workspace on this installation.") % {"value": value}
    return Conflict(message, code="email_address_taken", field="config")


def do_sync_claims(channel: Channel, config: dict) -> None:
    """Make the channel's claims match `config`; Conflict when a value is another channel's. The caller owns
    the transaction (a refused claim rolls the channel write back)."""
    wanted = wanted_of(config)
    values = wanted.addresses | wanted.domains
    for owner in EmailClaim.objects.select_related("channel").filter(value__in=values).exclude(channel=channel):
        raise _taken(owner.value, owner, channel)
    address_domains = {a.rpartition("@")[2] for a in wanted.addresses}
    for owner in (EmailClaim.objects.select_related("channel")
                  .filter(kind=EmailClaim.Kind.DOMAIN, value__in=address_domains, verified_at__isnull=False)
                  .exclude(workspace_id=channel.workspace_id)):
        raise _taken(owner.value, owner, channel)
    EmailClaim.objects.filter(channel=channel).exclude(value__in=values).delete()
    mine = {c.value: c for c in EmailClaim.objects.filter(channel=channel)}
    for value in sorted(values):
        kind = EmailClaim.Kind.DOMAIN if value in wanted.domains else EmailClaim.Kind.ADDRESS
        existing = mine.get(value)
        if existing is not None and existing.kind == kind:
            continue
        if existing is not None:
            existing.delete()
        EmailClaim.objects.create(
            workspace_id=channel.workspace_id, channel=channel, kind=kind, value=value,
            verification_token=secrets.token_urlsafe(24) if kind == EmailClaim.Kind.DOMAIN else "",
        )


def domain_claims(channel: Channel) -> list[EmailClaim]:
    return list(EmailClaim.objects.filter(channel=channel, kind=EmailClaim.Kind.DOMAIN).order_by("value"))


def txt_records(name: str) -> list[str]:
    """The TXT strings published at `name` (empty when there are none or DNS fails)."""
    import dns.exception
    import dns.nameserver
    import dns.resolver

    servers = settings.THREADLINE.get("DNS_NAMESERVERS") or []
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers]
    resolver.lifetime = DNS_TIMEOUT
    try:
        answer = resolver.resolve(name, "TXT")
    except dns.exception.DNSException as exc:
        logger.info("TXT lookup of %s: %s", name, exc)
        return []
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def published(claim: EmailClaim) -> bool:
    """True when DNS has the claim's TXT record (a network call: run it outside any transaction)."""
    return record_value(claim) in txt_records(record_name(claim.value))


def do_verify_domain(claim: EmailClaim, *, proven: bool, by: str = "dns") -> EmailClaim:
    """Mark the domain verified: `proven` by `published` (ValidationFailed when not), or `by="operator"`."""
    if claim.kind != EmailClaim.Kind.DOMAIN:
        raise ValidationFailed(_("Only catch-all domains need verifying."), code="not_a_domain")
    if not proven:
        raise ValidationFailed(
            _("No TXT record %(value)s at %(name)s yet. Publish it, wait for DNS, and try again.")
            % {"value": record_value(claim), "name": record_name(claim.value)},
            code="domain_not_verified",
        )
    claim.verified_at = now()
    claim.verified_by = by
    claim.save(update_fields=["verified_at", "verified_by", "updated_at"])
    return claim

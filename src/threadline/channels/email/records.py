"""What an email channel asks its admin to publish in DNS: the DKIM key's public half and the TXT records that
prove a catch-all domain (see claims.py), and the generation of a new DKIM key."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.channels.actions import do_update_channel
from threadline.channels.base import PublishedRecord
from threadline.channels.email import dkim_keys
from threadline.channels.email.claims import record_name, record_value
from threadline.channels.email.models import EmailClaim
from threadline.channels.models import Channel
from threadline.core.errors import ValidationFailed
from threadline.tenancy.models import Membership


def published_records(channel: Channel) -> list[PublishedRecord]:
    config: dict[str, Any] = channel.config
    found = []
    if config.get("dkim_selector") and config.get("dkim_private_key"):
        record = dkim_keys.dns_record(config["address"], config["dkim_selector"], config["dkim_private_key"])
        if record is not None:
            found.append(PublishedRecord(_("DKIM signature"), record.name, record.value))
    for claim in EmailClaim.objects.filter(channel=channel, kind=EmailClaim.Kind.DOMAIN).order_by("value"):
        found.append(PublishedRecord(_("Domain verification of %(domain)s") % {"domain": claim.value},
                                     record_name(claim.value), record_value(claim),
                                     verified=claim.verified_at is not None))
    return found


def do_new_dkim_key(actor: Membership, channel: Channel, selector: str) -> None:
    """A new DKIM key pair under `selector`: the private half stored (write-only), mail signed with it now."""
    selector = (selector or "").strip() or "threadline"
    if not dkim_keys.SELECTOR.match(selector):
        raise ValidationFailed(_("A selector is letters, digits and hyphens, e.g. threadline."),
                               code="invalid_selector", field="selector")
    do_update_channel(actor, channel, config={"dkim_selector": selector,
                                              "dkim_private_key": dkim_keys.new_private_key()})

"""The "connection test" of a channel (the adapter's optional `check_connection(channel)`, see base.py) and the
webhook registration of providers set up by an API call (`register_webhook(channel, url)`), run with the stored
credentials, their outcome told in words a person can act on, without the channel's secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from threadline.channels.base import ChannelError, PermanentSendError, TransientSendError
from threadline.channels.models import Channel
from threadline.channels.queries import inbound_webhook_url, is_secret, secret_fields
from threadline.channels.registry import adapter_for

logger = logging.getLogger(__name__)
SHOWN_REASON = 300  # characters of the provider's own error text shown


@dataclass(frozen=True)
class ConnectionCheck:
    available: bool
    ok: bool = False
    message: str = ""


def scrubbed(text: str, channel: Channel) -> str:
    """`text` with every secret value of the channel's config (and any URL) taken out."""
    declared = secret_fields(channel.kind)
    for name, value in channel.config.items():
        if is_secret(name, declared) and isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, "********")
    words = ["<url>" if "://" in word else word for word in text.split()]
    return " ".join(words)[:SHOWN_REASON]


def _outcome(channel: Channel, call: Callable[[], str], done: str) -> ConnectionCheck:
    """Run one provider call; its outcome in words, with the channel's secrets and any URL taken out."""
    try:
        answer = call()
    except PermanentSendError as exc:
        return ConnectionCheck(True, False, _("The provider refused the request: %(reason)s") % {
            "reason": scrubbed(str(exc), channel)})
    except TransientSendError as exc:
        logger.info("provider call for channel %s: %s", channel.pk, scrubbed(str(exc), channel))
        return ConnectionCheck(True, False, _("The provider could not be reached; check the address and try again "
                                              "in a minute."))
    except (ChannelError, KeyError, ValueError) as exc:
        logger.info("provider call for channel %s failed: %s", channel.pk, type(exc).__name__)
        return ConnectionCheck(True, False, _("The provider's answer was not understood."))
    return ConnectionCheck(True, True, done % {"answer": scrubbed(answer, channel)})


def check(channel: Channel) -> ConnectionCheck:
    """The connection test: the adapter's `check_connection`, or "not available" for kinds without one."""
    probe = getattr(adapter_for(channel.kind), "check_connection", None)
    if probe is None:
        return ConnectionCheck(available=False, message=_("A connection test is not available for this kind."))
    return _outcome(channel, lambda: probe(channel), _("Connected: %(answer)s"))


def register_webhook(channel: Channel) -> ConnectionCheck:
    """Tell the provider where to post (the adapter's `register_webhook`, for providers set up by an API call
    rather than in a console: Telegram's setWebhook)."""
    register = getattr(adapter_for(channel.kind), "register_webhook", None)
    if register is None:
        return ConnectionCheck(available=False, message=_("This provider is set up in its own console."))
    return _outcome(channel, lambda: register(channel, inbound_webhook_url(channel)),
                    _("The provider will post to this channel now (%(answer)s)."))

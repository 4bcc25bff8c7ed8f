"""The "send a test" of an email channel: one real message through the channel's relay (or the installation's),
signed with its DKIM key when it has one, to an address the admin types."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.channels.base import PermanentSendError
from threadline.channels.email.adapter import config_of, relay_url_for
from threadline.channels.email.sending import deliver, dkim_sign, header_address, one_line, parse_relay
from threadline.channels.models import Channel
from threadline.contacts import identities
from threadline.contacts.models import IdentityKind
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def do_send_test_email(actor: Membership, channel: Channel, to: str) -> str:
    """Send the test; returns the Message-ID. Raises ValidationFailed (bad address) or a channel error."""
    require(actor, Permission.ADMIN_CHANNELS)
    to = identities.normalize(IdentityKind.EMAIL, to)
    config = config_of(channel)
    url = relay_url_for(config)
    if not url:
        raise PermanentSendError(_("No mail relay is set: fill in the SMTP relay, or ask the operator to set "
                                   "THREADLINE_SMTP_RELAY_URL."))
    relay = parse_relay(url, trusted=not config.relay_url)
    domain = config.address.partition("@")[2]
    mime = EmailMessage()
    mime["From"] = header_address(one_line(config.display_name or channel.name), config.address)
    mime["To"] = to
    mime["Subject"] = _("Test message from %(channel)s") % {"channel": one_line(channel.name)}
    mime["Date"] = formatdate(localtime=False)
    mime["Message-ID"] = message_id = make_msgid(domain=domain or None)
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(_("This is a test message sent from the channel settings of Threadline. If you can read "
                       "it, the mail relay works.") + "\n")
    deliver(relay, dkim_sign(mime.as_bytes(), config), config.address, [to])
    record_change("channel.test_email_sent", channel, {"to": to, "message_id": message_id}, actor=actor)
    return message_id

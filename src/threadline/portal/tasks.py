"""Background tasks of the portal: mailing a sign-in link, texting a sign-in code, pruning spent sign-ins.

They run after the form answered, so the answer (and its timing) is the same whether or not the address or
number belongs to anyone.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from threadline.channels.base import ChannelError, OutboundMessage, TransientSendError
from threadline.channels.registry import adapter_for
from threadline.conversations.models import Direction, Message
from threadline.core import mail
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.jobs.registry import Retry, task
from threadline.tenancy.models import Workspace

logger = logging.getLogger(__name__)


@task(max_attempts=3)
def send_link_task(workspace_id: int, address: str, next_path: str) -> None:
    from threadline.portal import links, signin
    from threadline.portal.models import SignInLink

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return
    with transaction.atomic():
        contact = signin.contact_for_email(workspace, address)
        if contact is None:
            return  # nobody has the address: nothing is sent, and the form said the same as for a known one
        token = links.do_issue_link(workspace, SignInLink.Purpose.EMAIL, email=address, contact=contact,
                                    next_path=next_path)
    with translation.override(contact.language or workspace.default_language or "en"):
        subject = _("Your sign-in link for %(workspace)s") % {"workspace": workspace.name}
        text = _("Open this link to see your requests to %(workspace)s. It works once, for 15 minutes:\n\n"
                 "%(url)s\n\nIf you did not ask for it, ignore this message.") % {
            "workspace": workspace.name, "url": links.link_url(workspace, token)}
    if not mail.send(address, subject, text) and mail.configured():
        raise Retry("the mail server did not accept the sign-in link")


def _reachable_channels(identity):  # noqa: ANN001, ANN202 - ContactIdentity -> list of (channel, conversation)
    """The channels the identity wrote on, latest first, with the conversation of its last message there."""
    seen, found = set(), []
    for message in (Message.objects.filter(identity=identity, direction=Direction.INBOUND, channel__is_active=True)
                    .select_related("channel", "conversation").order_by("-created_at", "-id")[:50]):
        if message.channel_id not in seen:
            seen.add(message.channel_id)
            found.append((message.channel, message.conversation))
    return found


@task(max_attempts=5)
def send_code_task(workspace_id: int, number: str) -> None:
    """Text a sign-in code to the verified identity with `number`, on a channel it wrote on whose rules
    allow a message now (consent, WhatsApp's 24-hour window); nothing when there is none."""
    from threadline.portal import signin

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    identity = signin.verified_phone_identity(workspace, number) if workspace is not None else None
    if identity is None:
        return
    for channel, conversation in _reachable_channels(identity):
        adapter = adapter_for(channel.kind)
        check = getattr(adapter, "check_send", None)
        try:
            if check is not None:
                check(conversation, identity, channel)
        except ValidationFailed as exc:
            logger.info("portal code not sent on channel %s: %s", channel.pk, exc.code)
            continue
        with transaction.atomic():
            code = signin.do_issue_code(identity, number)
        with translation.override(identity.contact.language or workspace.default_language or "en"):
            text = _("%(code)s is your sign-in code for %(workspace)s. It expires in 10 minutes.") % {
                "code": code, "workspace": workspace.name}
        try:
            adapter.send(OutboundMessage(message_id=0, conversation_id=conversation.pk, recipient_kind=identity.kind,
                                         recipient_address=identity.address, text=text), channel)
        except TransientSendError as exc:
            raise Retry(str(exc)) from exc
        except ChannelError as exc:
            logger.warning("portal code on channel %s refused: %s", channel.pk, exc)
            continue
        return


KEEP_SPENT = dt.timedelta(days=1)  # spent or expired sign-in rows are kept this long (for a support question)


@task(max_attempts=3)
def prune_sign_ins_task() -> int:
    """Delete sign-in links, codes and sessions that stopped working more than KEEP_SPENT ago (hourly)."""
    from threadline.portal.models import PortalSession, SignInCode, SignInLink

    before = now() - KEEP_SPENT
    deleted = 0
    for model, ended in ((SignInLink, "used_at"), (SignInCode, "used_at"), (PortalSession, "ended_at")):
        stale = model.objects.filter(Q(expires_at__lt=before) | Q(**{f"{ended}__lt": before}))
        deleted += stale.delete()[0]
    return deleted

"""The messages the installation mails about sign-in (an invitation, a reset link), in the recipient's language,
and the URLs they carry. Sending happens after the caller's transaction committed; the links' secrets are
never logged (core.mail)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from threadline.core import mail
from threadline.core.time import now
from threadline.tenancy.invitations import INVITATION_DAYS
from threadline.tenancy.models import Invitation, User
from threadline.tenancy.passwords import RESET_HOURS


def invitation_url(raw: str) -> str:
    return f"{settings.PUBLIC_URL}/invite/{raw}"


def reset_url(raw: str) -> str:
    return f"{settings.PUBLIC_URL}/login/reset/{raw}"


def send_invitation(invitation: Invitation, raw: str) -> bool:
    """Mail the invitation; True (and `sent_at` set) when the mail server accepted it. On False the caller shows
    `invitation_url(raw)` to the admin instead."""
    workspace = invitation.workspace
    inviter = invitation.invited_by.user if invitation.invited_by_id else None
    language = invitation.membership.user.language if invitation.membership_id else workspace.default_language
    with translation.override(language):
        subject = _("You are invited to %(workspace)s on Threadline") % {"workspace": workspace.name}
        text = _("%(who)s invites you to answer customers in %(workspace)s.\n\n"
                 "Open this link to join (it works once, for %(days)s days):\n%(url)s\n\n"
                 "If you did not expect this, ignore this message.\n") % {
            "who": (inviter.name or inviter.email) if inviter else _("An administrator"),
            "workspace": workspace.name, "days": INVITATION_DAYS, "url": invitation_url(raw)}
    sent = mail.send(invitation.email, subject, text)
    if sent:
        Invitation.objects.filter(Q(pk=invitation.pk) & Q(accepted_at__isnull=True)).update(sent_at=now())
    return sent


def send_reset(user: User, raw: str) -> bool:
    with translation.override(user.language):
        subject = _("Reset your Threadline password")
        text = _("Someone (we hope you) asked to reset the password of %(email)s.\n\n"
                 "Open this link to choose a new one (it works once, for %(hours)s hours):\n%(url)s\n\n"
                 "If it was not you, ignore this message: your password stays as it is.\n") % {
            "email": user.email, "hours": RESET_HOURS, "url": reset_url(raw)}
    return mail.send(user.email, subject, text)

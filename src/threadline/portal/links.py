"""One-time sign-in links into the portal: issued, read and spent.

A link is `<PUBLIC_URL>/portal/<workspace slug>/link/<token>/`: 32 random bytes, stored as their SHA-256
only, single use, expiring (15 minutes for a link asked for on the sign-in form; a reply's notification
lives longer and opens only its conversation, since the mail may have been copied to others). Opening it
shows a button; only the POST spends it, so a mail scanner following links does not.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation
from threadline.core import crypto
from threadline.core.errors import PermissionDenied
from threadline.core.time import now
from threadline.portal.models import SignInLink
from threadline.tenancy.models import Workspace

LINK_LIFETIME = dt.timedelta(minutes=15)
NOTIFICATION_LIFETIME = dt.timedelta(days=3)
WIDGET_LIFETIME = dt.timedelta(minutes=2)


def portal_root(workspace: Workspace) -> str:
    return f"/portal/{workspace.slug}/"


def link_url(workspace: Workspace, token: str) -> str:
    return f"{settings.PUBLIC_URL}{portal_root(workspace)}link/{token}/"


def do_issue_link(
    workspace: Workspace, purpose: str, *, email: str = "", contact: Contact | None = None,
    conversation: Conversation | None = None, next_path: str = "", lifetime: dt.timedelta = LINK_LIFETIME,
) -> str:
    """A new one-time link's secret token (shown once, in the mail or the redirect)."""
    token = secrets.token_urlsafe(32)
    SignInLink.objects.create(
        workspace=workspace, digest=crypto.token_digest(token), purpose=purpose, email=email[:320],
        contact=contact, conversation=conversation, next_path=next_path[:500], expires_at=now() + lifetime,
    )
    return token


def check_link(workspace: Workspace, token: str) -> SignInLink:
    """The unspent, unexpired link of `token` in `workspace`, else PermissionDenied (one answer for every
    failure: unknown, tampered, expired, used)."""
    link = None
    if token and len(token) <= 100:
        link = SignInLink.objects.filter(workspace=workspace, digest=crypto.token_digest(token)).first()
    if link is None or link.used_at is not None or link.expires_at <= now():
        raise PermissionDenied(_("This sign-in link has expired or was already used. Ask for a new one."),
                               code="link_invalid")
    return link


def do_spend_link(workspace: Workspace, token: str) -> SignInLink:
    """Mark the link used (once, even when two requests race: the update is conditional)."""
    link = check_link(workspace, token)
    with transaction.atomic():
        spent = SignInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now())
    if not spent:
        raise PermissionDenied(_("This sign-in link has expired or was already used. Ask for a new one."),
                               code="link_invalid")
    return link


def do_issue_widget_link(workspace: Workspace, contact: Contact, *, email: str = "") -> str:
    """The URL of a 2-minute single-use link signing the chat widget's identified visitor into the portal
    (opened at once by the widget, never mailed, so the GET spends it)."""
    token = do_issue_link(workspace, SignInLink.Purpose.WIDGET, email=email, contact=contact,
                          lifetime=WIDGET_LIFETIME)
    return link_url(workspace, token)

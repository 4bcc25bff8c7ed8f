"""The portal's sign-in rows: one-time links, phone codes and customers' sessions.

Only digests of the secrets are stored (SHA-256 of the random token), so a leaked database opens nothing.
Customers' sessions are their own rows and cookie, never Django's session (agents'): neither opens the other.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class SignInLink(WorkspaceScoped):
    """A one-time link that signs the holder of `email` in (sent by email), or of a contact (a reply's
    notification, a widget's "see all your requests")."""

    class Purpose(models.TextChoices):
        EMAIL = "email", _("Sign-in link")
        NOTIFICATION = "notification", _("Reply notification")
        WIDGET = "widget", _("Chat widget")

    digest = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    email = models.CharField(max_length=320, blank=True)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="+")
    next_path = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class SignInCode(WorkspaceScoped):
    """A 6-digit code sent by SMS or WhatsApp to a verified identity; a few attempts, then it is spent."""

    identity = models.ForeignKey("contacts.ContactIdentity", on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=32, db_index=True)
    digest = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class PortalSession(WorkspaceScoped):
    """A signed-in customer: the contact, and the email address they proved (if they signed in by email)."""

    digest = models.CharField(max_length=64, unique=True)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=320, blank=True)
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("Opened from a reply's notification: only this conversation (the mail may have been copied)"),
    )
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

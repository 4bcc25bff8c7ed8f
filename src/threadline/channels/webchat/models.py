"""Widget visitors (one browser's persisted session on one chat channel) and the events a web app tracks.

A visitor is anonymous until the first message (then a contact with a `visitor` identity exists) or until
the web app identifies them with a signed identity token (then they belong to that user's contact until the
token's expiry, `identified_until`; after it the visitor token opens nothing until a fresh identify).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Visitor(WorkspaceScoped):
    channel = models.ForeignKey("tl_channels.Channel", on_delete=models.CASCADE, related_name="+")
    visitor_id = models.CharField(max_length=64, unique=True, help_text=_("The id inside the visitor token"))
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    user_id = models.CharField(max_length=255, blank=True, help_text=_("The web app's user id, once verified"))
    verified = models.BooleanField(default=False)
    identified_until = models.DateTimeField(null=True, blank=True,
                                            help_text=_("When the identity token that identified the visitor expires"))
    verified_email = models.EmailField(max_length=320, blank=True, help_text=_("The email in the identity token"))
    email = models.EmailField(max_length=320, blank=True, help_text=_("Where replies go while the visitor is away"))
    name = models.CharField(max_length=300, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    locale = models.CharField(max_length=16, blank=True)
    page_url = models.CharField(max_length=2000, blank=True)
    pages = models.JSONField(default=list, blank=True, help_text=_("The latest pages the widget was opened on"))
    user_agent = models.CharField(max_length=500, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"visitor {self.visitor_id[:8]}"


class VisitorEvent(WorkspaceScoped):
    """Something the web app reported about a visitor (`Threadline('track', name, properties)`)."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="events")
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    name = models.CharField(max_length=200)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "created_at"])]

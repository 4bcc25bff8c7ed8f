"""The people copied on an email conversation, beyond its contact.

Rows come from the Cc of inbound mail (`source="cc"`) or from an agent; an agent's removal is kept
(`active=False`) so the next Cc does not bring the person back. Active participants are copied on replies.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class EmailParticipant(WorkspaceScoped):
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="email_participants"
    )
    address = models.CharField(max_length=320)
    name = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=16, default="cc", help_text=_("cc or agent"))
    active = models.BooleanField(default=True)
    changed_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "address"], name="uniq_email_participant")
        ]

    def __str__(self) -> str:
        return self.address


class EmailClaim(WorkspaceScoped):
    """An inbound address or catch-all domain, owned by one channel of one workspace (unique installation-wide).

    Kept in step with the channel's config by `claims.do_sync_claims`. A domain routes mail only once it is
    verified: a DNS TXT record `threadline-verify=<token>` at `_threadline.<domain>`, or the operator's
    `threadline email verify-domain DOMAIN --force`.
    """

    class Kind(models.TextChoices):
        ADDRESS = "address", _("Address")
        DOMAIN = "domain", _("Catch-all domain")

    channel = models.ForeignKey("tl_channels.Channel", on_delete=models.CASCADE, related_name="email_claims")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=320, unique=True)
    verification_token = models.CharField(max_length=64, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=16, blank=True, help_text=_("dns or operator"))

    def __str__(self) -> str:
        return self.value

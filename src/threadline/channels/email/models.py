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

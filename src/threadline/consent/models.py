"""The consent ledger: every opt-out, opt-in and help request, per address and channel, append-only."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class ConsentAction(models.TextChoices):
    OPT_OUT = "opt_out", _("Opted out")
    OPT_IN = "opt_in", _("Opted in")
    HELP = "help", _("Asked for help")


class ConsentPurpose(models.TextChoices):
    """What a consent covers. Empty: every purpose (a STOP keyword); otherwise only that kind of message."""

    ANY = "", _("Every message")
    MARKETING = "marketing", _("Marketing")
    TRANSACTIONAL = "transactional", _("Transactional and service")


class ConsentRecord(WorkspaceScoped):
    """One consent change. The latest opt_out/opt_in for (channel, identity kind, address) is in force; a record
    with a purpose applies to that purpose only, one without to every purpose."""

    class Source(models.TextChoices):
        KEYWORD = "keyword", _("Keyword from the customer")
        PROVIDER = "provider", _("Reported by the provider")
        AGENT = "agent", _("Recorded by an agent")
        LINK = "link", _("Unsubscribe link")

    channel = models.ForeignKey("tl_channels.Channel", on_delete=models.CASCADE, related_name="consent_records")
    identity_kind = models.CharField(max_length=16)
    address = models.CharField(max_length=320)
    action = models.CharField(max_length=16, choices=ConsentAction.choices)
    keyword = models.CharField(max_length=64, blank=True, help_text=_("The word the customer sent"))
    language = models.CharField(max_length=16, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.KEYWORD)
    provider_message_id = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(blank=True)
    purpose = models.CharField(max_length=16, choices=ConsentPurpose.choices, blank=True, default="",
                               help_text=_("Empty: every purpose; else only marketing or transactional messages"))

    class Meta:
        indexes = [models.Index(fields=["channel", "identity_kind", "address", "created_at"])]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.identity_kind}:{self.address} on {self.channel_id}"

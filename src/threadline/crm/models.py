"""A workspace's CRM (HubSpot or Salesforce, connected with OAuth 2), the CRM record each contact is linked to,
and the sync log: what came in, what went out, and every conflict with both values."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Provider(models.TextChoices):
    HUBSPOT = "hubspot", _("HubSpot")
    SALESFORCE = "salesforce", _("Salesforce")


class CrmConnection(WorkspaceScoped):
    """`secrets_encrypted`: {"client_secret", "access_token", "refresh_token"}; `api_url` is where the REST API
    answers (HubSpot's fixed address, a Salesforce org's instance URL), `auth_url` where OAuth 2 does."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    client_id = models.CharField(max_length=300)
    secrets_encrypted = models.TextField()
    auth_url = models.URLField(max_length=300)
    api_url = models.URLField(max_length=300, blank=True)
    account = models.CharField(max_length=300, blank=True)  # the portal / org id the tokens belong to
    token_expires_at = models.DateTimeField(null=True, blank=True)
    create_missing = models.BooleanField(default=True)  # a solved conversation's unknown contact is created there
    is_active = models.BooleanField(default=False)  # True once OAuth has finished
    polled_until = models.DateTimeField(null=True, blank=True)  # Salesforce: changes read up to here

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "provider"], name="crm_one_per_provider")]

    def __str__(self) -> str:
        return self.get_provider_display()


class CrmLink(WorkspaceScoped):
    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="links")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="crm_links")
    external_id = models.CharField(max_length=64)
    url = models.URLField(max_length=500, blank=True)
    company = models.CharField(max_length=300, blank=True)
    owner = models.CharField(max_length=300, blank=True)
    remote_name = models.CharField(max_length=300, blank=True)
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "contact"], name="crm_link_per_contact"),
            models.UniqueConstraint(fields=["connection", "external_id"], name="crm_link_per_record"),
        ]


class CrmSyncLog(WorkspaceScoped):
    class Kind(models.TextChoices):
        LINKED = "linked", _("Linked to a CRM record")
        CREATED = "created", _("Created in the CRM")
        UPDATED = "updated", _("Updated from the CRM")
        CONFLICT = "conflict", _("Conflict (newest change kept)")
        ACTIVITY = "activity", _("Conversation logged in the CRM")
        FAILED = "failed", _("Failed")

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="log")
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    field = models.CharField(max_length=64, blank=True)
    ours = models.CharField(max_length=300, blank=True)
    theirs = models.CharField(max_length=300, blank=True)
    kept = models.CharField(max_length=16, blank=True)  # "ours" / "theirs" for a conflict
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]

"""Data-subject requests (a contact's export, a contact's erasure) and retention policies."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import TimeStamped, WorkspaceScoped

DEFAULT_GRACE_DAYS = 7


class PrivacySettings(TimeStamped):
    """A workspace's privacy settings (a row exists once an admin changed one; defaults otherwise)."""

    workspace = models.OneToOneField("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    erasure_grace_days = models.PositiveIntegerField(
        default=DEFAULT_GRACE_DAYS,
        help_text=_("Days between a confirmed erasure request and the erasure; it can be cancelled meanwhile."),
    )


class ContactExport(WorkspaceScoped):
    """A machine-readable archive of everything about one contact, made by a job, downloadable for a while."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    requested_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    path = models.CharField(max_length=500, blank=True, help_text=_("The archive, inside the data directory"))
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)


class ErasureRequest(WorkspaceScoped):
    """Erase a contact: requested, then confirmed (scheduled after the grace period), then done by the
    scheduler; cancellable until it runs. `contact_ref` is a keyed hash of the contact, kept afterwards."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Awaiting confirmation")
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Erased")

    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    contact_ref = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED, db_index=True)
    reason = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text=_("What the erasure removed, by kind"))


class RetentionKind(models.TextChoices):
    RAW_PAYLOADS = "raw_payloads", _("Raw provider payloads")
    CLOSED_CONVERSATIONS = "closed_conversations", _("Closed conversations")
    CALL_RECORDINGS = "call_recordings", _("Call recordings")
    AUDIT_ENTRIES = "audit_entries", _("Audit entries")


class RetentionPolicy(WorkspaceScoped):
    """Keep `kind` for `days`, in the whole workspace (no channel) or on one channel (overrides the
    workspace's). Audit entries have workspace policies only."""

    channel = models.ForeignKey("tl_channels.Channel", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    kind = models.CharField(max_length=32, choices=RetentionKind.choices)
    days = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind"], condition=models.Q(channel__isnull=True),
                                    name="uniq_retention_workspace"),
            models.UniqueConstraint(fields=["channel", "kind"], condition=models.Q(channel__isnull=False),
                                    name="uniq_retention_channel"),
        ]

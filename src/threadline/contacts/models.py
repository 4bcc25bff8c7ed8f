"""Contacts (the customer), every identity they write from, and the reversible merges between them."""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Organization(WorkspaceScoped):
    name = models.CharField(max_length=200)
    domains = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.name


class Contact(WorkspaceScoped):
    name = models.CharField(_("name"), max_length=300, blank=True)
    name_key = models.CharField(
        max_length=300, blank=True, editable=False,
        help_text=_("The name folded for matching (case, diacritics, Hebrew final letters, Persian/Arabic letters)"),
    )
    language = models.CharField(max_length=16, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=2, blank=True)
    preferred_channel = models.CharField(max_length=32, blank=True)
    consent = models.JSONField(default=dict, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_contacts"
    )

    class Meta:
        indexes = [models.Index(fields=["workspace", "name_key"])]

    def __str__(self) -> str:
        return self.name or f"contact {self.pk}"


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    LINE = "line", _("LINE")
    MESSENGER = "messenger", _("Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    WECHAT = "wechat", _("WeChat")
    VISITOR = "visitor", _("Widget visitor")
    EXTERNAL = "external", _("External id")


class ContactIdentity(WorkspaceScoped):
    """One address a contact writes from; (kind, address) is unique per workspace."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=IdentityKind.choices)
    address = models.CharField(max_length=320)
    verified = models.BooleanField(default=False)
    source = models.CharField(max_length=64, blank=True, help_text=_("Where the identity was learnt"))
    display_name = models.CharField(max_length=300, blank=True)
    match_key = models.CharField(
        max_length=320, blank=True, editable=False,
        help_text=_("What near-identical identities share (a phone's national number, an email's local part)"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind", "address"], name="uniq_identity_address")
        ]
        indexes = [
            # Lookup by a whole address, any kind, case-insensitively (contacts.queries.search_filter)
            models.Index(F("workspace"), Lower("address"), name="contacts_identity_lower_addr"),
            models.Index(fields=["workspace", "match_key"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.address}"


class MergeSuggestion(WorkspaceScoped):
    """Two contacts that may be one person, with the reasons; never acted on without an agent.

    `contact` is the newer contact, `candidate` the existing one; one row per pair whatever the direction.
    `reasons` is a list of `{"code": ..., "params": {...}}`, rendered in the reader's language.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")
        SUPERSEDED = "superseded", _("Superseded by a merge")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)
    score = models.FloatField(default=0)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "candidate"], name="uniq_merge_suggestion")
        ]
        indexes = [models.Index(fields=["candidate", "state"]), models.Index(fields=["contact", "state"])]


class ContactMerge(WorkspaceScoped):
    """Audit record of a merge, with the snapshot that lets `do_unmerge_contacts` restore it exactly.

    The snapshot lists what the merge moved (identities with their prior flags, conversations, authored
    messages, suggestions with their prior state) and both contacts' field values before and after.
    """

    target = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL)
    snapshot = models.JSONField(default=dict)
    unmerged_at = models.DateTimeField(null=True, blank=True)
    unmerged_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class CustomField(WorkspaceScoped):
    """A workspace's own field on contacts or conversations: its values live under `key` in
    `Contact.attributes` or `Conversation.custom_fields`, checked against `kind` (contacts/custom_fields.py)."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        SELECT = "select", _("One of a list")

    class AppliesTo(models.TextChoices):
        CONTACT = "contact", _("Contacts")
        CONVERSATION = "conversation", _("Conversations")

    key = models.CharField(max_length=64)
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    options = models.JSONField(default=list, blank=True, help_text=_("The choices of a select field"))
    applies_to = models.CharField(max_length=16, choices=AppliesTo.choices)
    position = models.IntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "applies_to", "key"], name="uniq_custom_field")]

    def __str__(self) -> str:
        return self.label

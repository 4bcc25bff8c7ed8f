"""What only the agent workspace keeps: saved views, @mentions in notes, TOTP second factors, and each
person's display preferences."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import TimeStamped, WorkspaceScoped


class SavedView(WorkspaceScoped):
    """An inbox view with its own filters and sort; `shared` views show for every agent of the workspace."""

    class Sort(models.TextChoices):
        NEWEST = "newest", _("Latest activity first")
        OLDEST = "oldest", _("Oldest first")
        PRIORITY = "priority", _("Priority first")
        CREATED = "created", _("Newest conversations first")
        SLA = "sla", _("SLA due first")

    owner = models.ForeignKey("tenancy.Membership", on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=100)
    filters = models.JSONField(default=dict, blank=True)
    sort = models.CharField(max_length=16, choices=Sort.choices, default=Sort.NEWEST)
    shared = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class Mention(WorkspaceScoped):
    """An agent @mentioned in an internal note; unread until they open the conversation."""

    message = models.ForeignKey("conversations.Message", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey("tenancy.Membership", on_delete=models.CASCADE, related_name="mentions")
    author = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "membership"], name="uniq_mention")]
        indexes = [models.Index(fields=["membership", "read_at"])]


class TotpDevice(TimeStamped):
    """A user's authenticator app (RFC 6238). The secret is encrypted at rest; `last_step` refuses replays."""

    user = models.OneToOneField("tenancy.User", on_delete=models.CASCADE, related_name="totp_device")
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)


class UiPreference(TimeStamped):
    """How one person likes the workspace: list density, the contact panel open or folded, and whether
    they chose their language and time zone themselves (until then the browser's are taken, once)."""

    class Density(models.TextChoices):
        COMFORTABLE = "comfortable", _("Comfortable")
        COMPACT = "compact", _("Compact")

    class Panel(models.TextChoices):
        OPEN = "open", _("Open")
        COLLAPSED = "collapsed", _("Collapsed")

    user = models.OneToOneField("tenancy.User", on_delete=models.CASCADE, related_name="ui_preference")
    density = models.CharField(max_length=16, choices=Density.choices, default=Density.COMFORTABLE)
    contact_panel = models.CharField(max_length=16, choices=Panel.choices, default=Panel.OPEN)
    language_chosen = models.BooleanField(default=False)
    time_zone_chosen = models.BooleanField(default=False)

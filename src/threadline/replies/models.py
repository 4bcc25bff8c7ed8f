"""Canned replies, automatic replies and notifications with per-language variants, and agents' macros."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Template(WorkspaceScoped):
    """A reply text in several languages. Placeholders such as `{{contact.first_name}}` are filled in
    when it is rendered for one conversation (see `rendering.PLACEHOLDERS`)."""

    class Kind(models.TextChoices):
        CANNED = "canned", _("Canned reply")
        AUTOMATIC = "automatic", _("Automatic reply")
        NOTIFICATION = "notification", _("Notification")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CANNED)
    shortcut = models.CharField(
        max_length=64, blank=True,
        help_text=_("Typed after / in the composer (lowercase letters, digits, - and _); unique in the workspace"),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="uniq_template_name"),
            # what an agent types after "/" in the composer picks exactly one canned reply
            models.UniqueConstraint(fields=["workspace", "shortcut"], condition=~models.Q(shortcut=""),
                                    name="uniq_template_shortcut"),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateVariant(WorkspaceScoped):
    """One language of a template: plain text (SMS, chat apps) and optional HTML (email)."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=16)
    subject = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    html = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["template", "language"], name="uniq_template_language")]

    def __str__(self) -> str:
        return f"{self.template_id}:{self.language}"


class Macro(WorkspaceScoped):
    """Several changes and a reply in one click: `actions` use the automation vocabulary (set_status,
    set_priority, add_tags, remove_tags, set_team, assign) and `template` is the optional reply."""

    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    actions = models.JSONField(default=list, blank=True)
    template = models.ForeignKey(Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_macro_name")]

    def __str__(self) -> str:
        return self.name

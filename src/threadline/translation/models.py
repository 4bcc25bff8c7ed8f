"""Machine translation per workspace: the provider it uses (key encrypted at rest), its glossary of product
terms, the cache of what was translated, and the characters sent to the provider each month."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Provider(models.TextChoices):
    NONE = "", _("None (no machine translation)")
    DEEPL = "deepl", _("DeepL")
    GOOGLE = "google", _("Google Cloud Translation")
    LIBRETRANSLATE = "libretranslate", _("LibreTranslate (self-hosted)")


class TranslationSettings(WorkspaceScoped):
    """A workspace's provider. `secret` is the encrypted `{"api_key": ...}`; `base_url` is the provider's API
    root (DeepL free or pro, Google's, the LibreTranslate server), so tests point it at a local server.
    `monthly_budget` is the characters a month the workspace may send (0: no limit). `glossary_version` goes up
    with every glossary change, so cached translations made with an older glossary are not reused;
    `provider_glossaries` keeps the DeepL glossary id made for each `source-target` pair at that version."""

    workspace = models.OneToOneField("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=32, choices=Provider.choices, blank=True, default="")
    base_url = models.URLField(max_length=500, blank=True)
    secret = models.TextField(blank=True)
    monthly_budget = models.PositiveBigIntegerField(default=0)
    glossary_version = models.PositiveIntegerField(default=1)
    provider_glossaries = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"translation of workspace {self.workspace_id}: {self.provider or 'none'}"


class GlossaryTerm(WorkspaceScoped):
    """A product term: kept as it is (empty `translations`), or mapped per target language
    (`{"cs": "...", "th": "..."}`; a language not listed keeps the term)."""

    term = models.CharField(max_length=200)
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "term"], name="uniq_glossary_term")]

    def __str__(self) -> str:
        return self.term


class CachedTranslation(WorkspaceScoped):
    """One text translated once: reused for the same provider, languages, text and glossary version."""

    provider = models.CharField(max_length=32)
    source_language = models.CharField(max_length=16)
    target_language = models.CharField(max_length=16)
    text_hash = models.CharField(max_length=64)
    glossary_version = models.PositiveIntegerField()
    translated = models.TextField()
    characters = models.PositiveIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["workspace", "provider", "source_language", "target_language", "text_hash", "glossary_version"],
            name="uniq_cached_translation")]

    def __str__(self) -> str:
        return f"{self.source_language}->{self.target_language} {self.text_hash[:8]}"


class MonthlyUsage(WorkspaceScoped):
    """Characters sent to the provider in one calendar month (UTC), and those served from the cache."""

    month = models.DateField(help_text=_("The first day of the month"))
    characters = models.PositiveBigIntegerField(default=0)
    cached_characters = models.PositiveBigIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "month"], name="uniq_translation_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.characters}"

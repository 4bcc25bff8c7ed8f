"""The knowledge base: help centers (one per brand), categories → sections → articles, and each article's
translations with their versions, attachments and the customers' feedback.

An `Article` is language-independent (where it is filed, labels, related articles, internal-only); its text
lives in one `ArticleTranslation` per language, each with its own workflow state (draft → review → published,
or archived) and its own history of `ArticleVersion`s. Categories and sections carry their titles per language
(`titles = {"en": "Orders", "he": "הזמנות"}`), read through `title_in(language)`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


def _in(values: dict[str, str], language: str, fallback: str) -> str:
    return (values or {}).get(language) or (values or {}).get(fallback) or next(iter((values or {}).values()), "")


class HelpCenter(WorkspaceScoped):
    """A brand's public help center at `/help/<slug>/<language>/`. The slug is unique in the installation (the
    public URL names no workspace)."""

    brand = models.OneToOneField("tenancy.Brand", on_delete=models.CASCADE, related_name="help_center")
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    default_language = models.CharField(max_length=16, default="en")
    languages = models.JSONField(default=list, blank=True)  # enabled languages, the default first
    is_public = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class Category(WorkspaceScoped):
    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="categories")
    titles = models.JSONField(default=dict)  # language → title
    descriptions = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "categories"

    def title_in(self, language: str) -> str:
        return _in(self.titles, language, self.help_center.default_language)

    def __str__(self) -> str:
        return next(iter(self.titles.values()), "")


class Section(WorkspaceScoped):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sections")
    titles = models.JSONField(default=dict)
    descriptions = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def title_in(self, language: str) -> str:
        return _in(self.titles, language, self.category.help_center.default_language)

    def __str__(self) -> str:
        return next(iter(self.titles.values()), "")


class Article(WorkspaceScoped):
    """One article in every language. Unfiled (no section) while it is a draft promoted from elsewhere."""

    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")
    position = models.PositiveIntegerField(default=0)
    internal_only = models.BooleanField(default=False, help_text=_("Only agents see it"))
    author = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    source_url = models.URLField(max_length=500, blank=True)  # where it was promoted from (a community answer)
    related = models.ManyToManyField("self", through="ArticleRelation", symmetrical=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        # a section's page walks its articles in the editors' order and stops after the page (no sort)
        indexes = [models.Index(fields=["section", "position", "id"], name="kb_article_section_order")]

    def __str__(self) -> str:
        return f"article {self.pk}"


class ArticleRelation(WorkspaceScoped):
    from_article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    to_article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["from_article", "to_article"], name="uniq_article_relation")]


class ArticleLabel(WorkspaceScoped):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "name"], name="uniq_article_label")]
        indexes = [models.Index(fields=["workspace", "name"])]


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class BodyFormat(models.TextChoices):
    MARKDOWN = "markdown", _("Markdown")
    HTML = "html", _("HTML")


class ArticleTranslation(WorkspaceScoped):
    """One language of an article: what the editor wrote (`body_source` in `body_format`), the sanitized HTML
    shown to readers and the plain text that search and the answer bot read."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=16)
    title = models.CharField(max_length=300)
    slug = models.CharField(max_length=200, blank=True)
    body_source = models.TextField(blank=True)
    body_format = models.CharField(max_length=16, choices=BodyFormat.choices, default=BodyFormat.MARKDOWN)
    body_html = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "language"], name="uniq_article_language")]
        indexes = [models.Index(fields=["workspace", "state", "language"])]

    @property
    def is_public(self) -> bool:
        return self.state == State.PUBLISHED and not self.article.internal_only

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"


class ArticleVersion(WorkspaceScoped):
    """Every save of a translation, numbered from 1. Restoring one saves its content as a new version."""

    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    body_source = models.TextField(blank=True)
    body_format = models.CharField(max_length=16, choices=BodyFormat.choices, default=BodyFormat.MARKDOWN)
    author = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    note = models.CharField(max_length=200, blank=True)  # "restored from version 3"

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["translation", "number"], name="uniq_article_version")]


class ArticleAttachment(WorkspaceScoped):
    """A file of an article (images shown inline), stored like conversation attachments. `key` is the
    unguessable name in its URL; it is served publicly only while the article has a public translation."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    key = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to="knowledge/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    def __str__(self) -> str:
        return self.filename


class ArticleFeedback(WorkspaceScoped):
    """A reader's "was this helpful?" answer on one translation, with an optional comment."""

    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    # erasing a customer erases what they wrote here too (a comment may name them)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")

    class Meta:
        indexes = [models.Index(fields=["translation", "helpful"])]

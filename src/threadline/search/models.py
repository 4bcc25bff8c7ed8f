"""The search index's rows: one document per indexed object, the typo-tolerance dictionary, rebuild progress.

`SearchDocument` holds the *analysed* text (`analysis.index_text`: normalised terms separated by spaces), never
what the user wrote. The full-text structures over it are the database's own and are kept in step by the
database (migration 0001): on SQLite the FTS5 table `search_fts` (external content = this table) through
triggers, on PostgreSQL the generated `tsvector` column `document` with a GIN index. Django's SQLite schema
editor rebuilds a table to alter it, which drops its triggers: a migration that alters `search_document` or
`search_term` must create the triggers again (their SQL is in migration 0001).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    MESSAGE = "message", _("Message")
    CONVERSATION = "conversation", _("Conversation")
    CONTACT = "contact", _("Contact")
    ARTICLE = "article", _("Article")  # one document per knowledge-base translation (object_id = its id)


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")  # an agents' note: found by agents, never by customers


class SearchDocument(models.Model):
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24)  # Kind values, or another domain's kind (articles)
    object_id = models.BigIntegerField()
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    title = models.TextField(blank=True)
    body = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "search_document"
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_object")]


class SearchTerm(models.Model):
    """A workspace's distinct terms of four or more characters, for typo tolerance (trigram matching)."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=64)

    class Meta:
        db_table = "search_term"
        constraints = [models.UniqueConstraint(fields=["workspace", "term"], name="search_term_unique")]


class RebuildProgress(models.Model):
    """Where `threadline search rebuild` stopped: each kind's last indexed id, per scope ("" = every workspace)."""

    scope = models.CharField(max_length=100)
    kind = models.CharField(max_length=24)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "search_rebuild"
        constraints = [models.UniqueConstraint(fields=["scope", "kind"], name="search_rebuild_scope_kind")]

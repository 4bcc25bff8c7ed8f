"""What an import run did, where each stage of a source stopped (the checkpoint a re-run resumes from), which
of our rows each source record became (the key of idempotent re-runs), and every record skipped, with why."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Source(models.TextChoices):
    ZENDESK = "zendesk", "Zendesk"
    FRESHDESK = "freshdesk", "Freshdesk"
    HELPSCOUT = "helpscout", "Help Scout"


class ImportRun(WorkspaceScoped):
    """One `threadline import` of a source into a workspace. `counts` is
    `{stage: {"imported": n, "updated": n, "skipped": n, ...}}`; a dry run is never stored."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    source = models.CharField(max_length=16, choices=Source.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    process = models.CharField(max_length=200, blank=True, help_text=_("host:pid of the command running it"))

    class Meta:
        indexes = [models.Index(fields=["workspace", "source", "created_at"])]

    def __str__(self) -> str:
        return f"{self.source} import {self.pk} ({self.state})"


class Checkpoint(WorkspaceScoped):
    """Where a stage of a source's import stopped: an opaque cursor the source understands (Zendesk's
    `after_cursor`, a next-page URL, an `updated_since`), written in the same transaction as the page it
    follows, so a re-run after a crash starts on the first page that was not committed."""

    source = models.CharField(max_length=16, choices=Source.choices)
    stage = models.CharField(max_length=32)
    cursor = models.TextField(blank=True)
    complete = models.BooleanField(default=False, help_text=_("The stage reached the end of the source's stream"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "source", "stage"], name="uniq_import_checkpoint")]


class ExternalRef(WorkspaceScoped):
    """Source record (kind, id) → our row: what makes a re-run import nothing twice."""

    source = models.CharField(max_length=16, choices=Source.choices)
    kind = models.CharField(max_length=16)  # agent, organization, contact, ticket, comment, attachment, rating
    external_id = models.CharField(max_length=64)
    local_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "source", "kind", "external_id"],
                                               name="uniq_import_external_ref")]


class Skipped(WorkspaceScoped):
    """A source record an import did not take, with a stable `code` and the reason in words."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="skipped")
    kind = models.CharField(max_length=16)
    external_id = models.CharField(max_length=64, blank=True)
    code = models.CharField(max_length=64)
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "kind"])]

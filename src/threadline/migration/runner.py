"""Running an import: every stage of a source from its checkpoint, page by page.

For each page: the attachments of comments not imported yet are checked (declared size and type), downloaded
and stored *before* the page's transaction (a failed page deletes what it stored); then the page's rows, its
skipped records and its checkpoint are committed together. A crash, a kill or a provider that stops answering
leaves every committed page in place and the checkpoint on the next one: running the same command again
finishes the import with nothing lost and nothing twice (`ExternalRef` also makes a page that is read again
harmless). A dry run reads the source the same way from the same checkpoints and writes nothing at all: no
run, no checkpoint, no file.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from threadline.conversations.attachments import check_attachment
from threadline.core import http
from threadline.core.errors import ThreadlineError
from threadline.core.time import now
from threadline.migration import records as r
from threadline.migration.actions import (
    StoredFile,
    attachment_key,
    do_finish_run,
    do_reset_checkpoints,
    do_start_run,
    do_write_page,
    known,
)
from threadline.migration.client import SourceError
from threadline.migration.models import Checkpoint, ImportRun
from threadline.tenancy.models import Workspace


@dataclass
class Report:
    source: str
    dry_run: bool
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], str] = field(default_factory=dict)
    run_id: int | None = None
    error: str = ""
    pages: int = 0

    def add(self, stage: str, counts: Counter[str]) -> None:
        self.counts.setdefault(stage, Counter()).update(counts)

    def note_skips(self, skips: list[tuple[str, str, str, str]]) -> None:
        for kind, external_id, code, reason in skips:
            self.reasons[(kind, code)] += 1
            self.examples.setdefault((kind, code), f"{external_id}: {reason}")

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "dry_run": self.dry_run, "run": self.run_id, "error": self.error,
                "counts": {stage: dict(sorted(c.items())) for stage, c in self.counts.items()},
                "skipped": [{"kind": k, "code": c, "count": n, "example": self.examples[(k, c)]}
                            for (k, c), n in sorted(self.reasons.items())]}

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        out = [f"{self.source}: {'dry run, nothing written' if self.dry_run else f'run {self.run_id}'}"]
        for stage, counts in self.counts.items():
            order = ("imported", "updated", "matched", "unchanged", "skipped", "attachment")
            ranked = sorted((k for k, v in counts.items() if v),
                            key=lambda k: (next((i for i, p in enumerate(order) if k.startswith(p)), 9), k))
            shown = ", ".join(f"{key.replace('imported_', verb + ' ').replace('_', ' ')}={counts[key]}"
                              for key in ranked)
            out.append(f"  {stage}: {shown or 'nothing new'}")
        for (kind, code), count in sorted(self.reasons.items()):
            out.append(f"  skipped {count} {kind} ({code}), e.g. {self.examples[(kind, code)]}")
        if self.error:
            out.append(f"  STOPPED: {self.error} (run the same command again to resume)")
        return out


def _store(reader: r.SourceReader, comment: r.Comment, attachment: r.Attachment) -> StoredFile:
    """Check, download and store one attachment; a refusal is a StoredFile with its reason."""
    try:
        filename, content_type = check_attachment(attachment.filename, attachment.content_type, attachment.size)
    except ThreadlineError as exc:
        return StoredFile(skip_code=exc.code, skip_reason=exc.message)
    try:
        content = attachment.inline_data if attachment.inline_data is not None else reader.download(attachment)
    except http.TooLarge as exc:
        return StoredFile(skip_code="attachment_too_large", skip_reason=str(exc))
    except SourceError as exc:
        if exc.status in (403, 404, 410):
            return StoredFile(skip_code="attachment_gone", skip_reason=str(exc))
        raise
    try:
        filename, content_type = check_attachment(filename, content_type, len(content))
    except ThreadlineError as exc:
        return StoredFile(skip_code=exc.code, skip_reason=exc.message)
    name = default_storage.save(f"{now():%Y/%m}/{uuid.uuid4().hex}", ContentFile(content))
    return StoredFile(name=name, filename=filename, content_type=content_type, size=len(content),
                      sha256=hashlib.sha256(content).hexdigest())


def store_files(workspace: Workspace, reader: r.SourceReader, page: r.Page) -> dict[str, StoredFile]:
    tickets = [t for t in page.items if isinstance(t, r.Ticket)]
    seen = known(workspace.pk, reader.name, "comment", (c.id for t in tickets for c in t.comments))
    files: dict[str, StoredFile] = {}
    try:
        for ticket in tickets:
            for comment in ticket.comments:
                if comment.id in seen:
                    continue
                for attachment in comment.attachments:
                    files[attachment_key(comment, attachment)] = _store(reader, comment, attachment)
    except BaseException:
        discard(files)
        raise
    return files


def discard(files: dict[str, StoredFile]) -> None:
    for stored in files.values():
        if stored.name:
            default_storage.delete(stored.name)


def plan_page(workspace: Workspace, source: str, page: r.Page) -> Counter[str]:
    """What writing `page` would do, from what is already imported; reads only."""
    counts: Counter[str] = Counter()
    for kind, items in (("agent", [i for i in page.items if isinstance(i, r.Agent)]),
                        ("organization", [i for i in page.items if isinstance(i, r.Organization)]),
                        ("contact", [i for i in page.items if isinstance(i, r.Contact)]),
                        ("rating", [i for i in page.items if isinstance(i, r.Rating)])):
        done = known(workspace.pk, source, kind, (i.id for i in items))
        counts[f"imported_{kind}"] += sum(1 for i in items if i.id not in done)
        counts[f"unchanged_{kind}"] += sum(1 for i in items if i.id in done)
    tickets = [t for t in page.items if isinstance(t, r.Ticket)]
    done = known(workspace.pk, source, "ticket", (t.id for t in tickets))
    seen = known(workspace.pk, source, "comment", (c.id for t in tickets for c in t.comments))
    for ticket in tickets:
        counts["updated_ticket" if ticket.id in done else "imported_ticket"] += 1
        counts["skipped_comment"] += len(ticket.skipped_comments)
        for comment in ticket.comments:
            if comment.id in seen:
                continue
            counts["imported_note" if not comment.public else "imported_message"] += 1
            for attachment in comment.attachments:
                try:
                    check_attachment(attachment.filename, attachment.content_type, attachment.size)
                except ThreadlineError:
                    counts["skipped_attachment"] += 1
                    continue
                counts["imported_attachment"] += 1
                counts["attachment_bytes"] += attachment.size
    for kind, _id, _code, _reason in page.skipped:
        counts[f"skipped_{kind}"] += 1
    return counts


def run_import(workspace: Workspace, reader: r.SourceReader, *, dry_run: bool = False, invite: bool = False,
               restart: bool = False, reindex: bool = True, force: bool = False,
               progress: Callable[[str], None] | None = None) -> Report:
    """Import every stage of `reader` into `workspace`; the report says what was imported, skipped and why.
    A provider failure stops the run (`report.error`, the run stored as failed) where a re-run resumes.
    Conflict `import_running` while another run of the source is alive (`force` overrides)."""
    report = Report(reader.name, dry_run)
    run: ImportRun | None = None
    if not dry_run:
        with transaction.atomic():
            if restart:
                do_reset_checkpoints(workspace, reader.name)
            run = do_start_run(workspace, reader.name, force=force)
        report.run_id = run.pk
    try:
        for stage in reader.stages:  # type: ignore[attr-defined]
            checkpoint = None if restart and dry_run else Checkpoint.objects.filter(
                workspace=workspace, source=reader.name, stage=stage).first()
            for page in reader.pages(stage, checkpoint.cursor if checkpoint else ""):
                report.pages += 1
                report.note_skips(page.skipped)
                if dry_run:
                    report.add(stage, plan_page(workspace, reader.name, page))
                    continue
                report.add(stage, _write(workspace, reader, run, stage, page, invite, report))
                if progress:
                    progress(f"{reader.name} {stage}: page {report.pages}, {len(page.items)} records")
    except (SourceError, ThreadlineError) as exc:
        report.error = str(exc) if isinstance(exc, SourceError) else exc.message
    if run is not None:
        with transaction.atomic():
            do_finish_run(run, report.as_dict()["counts"], error=report.error)
        if reindex and not report.error:
            reindex_workspace(workspace)
    return report


def _write(workspace: Workspace, reader: r.SourceReader, run: ImportRun | None, stage: str, page: r.Page,
           invite: bool, report: Report) -> Counter[str]:
    assert run is not None
    files = store_files(workspace, reader, page)
    try:
        with transaction.atomic():
            writer = do_write_page(run, stage, page, files, invite=invite)
    except BaseException:
        discard(files)
        raise
    report.note_skips([(s.kind, s.external_id, s.code, s.reason) for s in writer.skipped
                       if (s.kind, s.external_id, s.code, s.reason) not in set(page.skipped)])
    for invitation, raw in writer.invitations:
        from threadline.tenancy.mails import send_invitation

        send_invitation(invitation, raw)
    return writer.counts


def reindex_workspace(workspace: Workspace) -> None:
    """Search and analytics see the imported history (no per-row events were published)."""
    from threadline.analytics.refresh import rebuild as rebuild_facts
    from threadline.search.rebuild import rebuild as rebuild_search

    rebuild_search(workspace)
    rebuild_facts(workspace.pk)

"""Background work of privacy operations: making export archives, running due erasures, the retention sweep."""

from __future__ import annotations

import datetime as dt
import io
import logging

from django.db import transaction

from threadline.core.time import now
from threadline.jobs.registry import task
from threadline.privacy import retention
from threadline.privacy.actions import do_expire_export, do_run_erasure, do_store_export
from threadline.privacy.export import write_archive
from threadline.privacy.models import ContactExport, ErasureRequest, RetentionPolicy

logger = logging.getLogger(__name__)

EXPORT_KEEP = dt.timedelta(days=7)  # an archive is personal data too: downloadable for a week, then removed


@task(max_attempts=3)
def export_contact_task(export_id: int) -> None:
    export = ContactExport.objects.select_related("contact").filter(pk=export_id).first()
    if export is None or export.state != ContactExport.State.QUEUED:
        return
    if export.contact is None:
        ContactExport.objects.filter(pk=export_id).update(state=ContactExport.State.FAILED, error="contact erased")
        return
    buffer = io.BytesIO()
    counts = write_archive(export.contact, buffer)
    with transaction.atomic():
        do_store_export(export, buffer.getvalue(), counts)


@task(max_attempts=3)
def run_due_erasures_task() -> int:
    """Erase every confirmed request whose grace period has passed; each in its own transaction."""
    done = 0
    due = ErasureRequest.objects.filter(state=ErasureRequest.State.SCHEDULED, due_at__lte=now())
    for erasure_id in list(due.values_list("pk", flat=True)[:100]):
        with transaction.atomic():
            erasure = ErasureRequest.objects.select_for_update().get(pk=erasure_id)
            if erasure.state == ErasureRequest.State.SCHEDULED:
                do_run_erasure(erasure)
                done += 1
    return done


@task(max_attempts=3)
def retention_sweep_task() -> int:
    """Apply every workspace's retention policies, and remove export archives older than a week; returns how
    many rows went."""
    removed = 0
    workspaces = set(RetentionPolicy.objects.values_list("workspace_id", flat=True))
    for workspace_id in sorted(workspaces):
        with transaction.atomic():
            removed += sum(retention.apply(workspace_id).values())
    stale = ContactExport.objects.filter(state=ContactExport.State.READY, finished_at__lt=now() - EXPORT_KEEP)
    for export in stale:
        with transaction.atomic():
            do_expire_export(export)
    return removed


__all__ = ["export_contact_task", "retention_sweep_task", "run_due_erasures_task"]

"""`threadline privacy`: the operator's data-subject requests and retention, on any workspace.

    threadline privacy export --contact ID --out FILE      write the contact's archive (zip) to FILE
    threadline privacy erase --contact ID [--now]          erase now, or request and schedule after the grace period
    threadline privacy retention [--dry-run] [--workspace SLUG]   apply retention policies, or report what would go
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.contacts.models import Contact
from threadline.privacy import retention
from threadline.privacy.actions import do_confirm_erasure, do_request_erasure, do_run_erasure
from threadline.privacy.export import write_archive
from threadline.privacy.models import RetentionPolicy
from threadline.privacy.queries import open_erasure_of
from threadline.tenancy.models import Workspace


def _contact(contact_id: int) -> Contact:
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        raise CommandError(f"No contact {contact_id}.")
    return contact


class Command(BaseCommand):
    help = "Data-subject requests (export, erase) and retention policies, for the installation's operator."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write everything about a contact to a zip archive.")
        export.add_argument("--contact", type=int, required=True, help="The contact's id.")
        export.add_argument("--out", required=True, help="The archive file to write.")
        erase = sub.add_parser("erase", help="Erase a contact (scheduled after the grace period unless --now).")
        erase.add_argument("--contact", type=int, required=True, help="The contact's id.")
        erase.add_argument("--now", action="store_true", help="Erase at once instead of after the grace period.")
        keep = sub.add_parser("retention", help="Apply the retention policies (or --dry-run to count).")
        keep.add_argument("--dry-run", action="store_true", help="Only report what would be deleted.")
        keep.add_argument("--workspace", help="One workspace's slug (default: every workspace with policies).")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _export(self, *, contact: int, out: str, **_: Any) -> None:
        target = Path(out)
        with target.open("wb") as handle:
            counts = write_archive(_contact(contact), handle)
        target.chmod(0o600)
        self.stdout.write(json.dumps({"file": str(target), "counts": counts}))

    def _erase(self, *, contact: int, now: bool, **_: Any) -> None:
        with transaction.atomic():
            person = _contact(contact)
            erasure = open_erasure_of(person.workspace_id, person.pk) or do_request_erasure(None, person)
            if erasure.state == erasure.State.REQUESTED:
                erasure = do_confirm_erasure(None, erasure)
            if now:
                erasure = do_run_erasure(erasure)
        self.stdout.write(json.dumps({"erasure_id": erasure.pk, "state": erasure.state,
                                      "due_at": erasure.due_at.isoformat() if erasure.due_at else None,
                                      "counts": erasure.counts}))

    def _retention(self, *, dry_run: bool, workspace: str | None, **_: Any) -> None:
        workspaces = Workspace.objects.filter(pk__in=RetentionPolicy.objects.values("workspace_id"))
        if workspace:
            workspaces = Workspace.objects.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"No workspace {workspace!r}.")
        report = {}
        for ws in workspaces.order_by("pk"):
            if dry_run:
                report[ws.slug] = retention.dry_run(ws.pk)
            else:
                with transaction.atomic():
                    report[ws.slug] = retention.apply(ws.pk)
        self.stdout.write(json.dumps({"dry_run": dry_run, "workspaces": report}))

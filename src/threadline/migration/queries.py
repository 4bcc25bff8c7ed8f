"""Reading what imports did: a workspace's runs and each run's skipped records (workspace admins)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.migration.models import ImportRun, Skipped
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def list_runs(actor: Membership, *, source: str | None = None) -> QuerySet[ImportRun]:
    require(actor, Permission.ADMIN_WORKSPACE)
    runs = ImportRun.objects.filter(workspace_id=actor.workspace_id)
    return runs.filter(source=source) if source else runs


def access_run(actor: Membership, run_id: int) -> ImportRun:
    run = list_runs(actor).filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("No such import."), code="import_not_found")
    return run


def list_skipped(actor: Membership, run_id: int, *, kind: str | None = None) -> QuerySet[Skipped]:
    run = access_run(actor, run_id)
    skipped = Skipped.objects.filter(run=run)
    return skipped.filter(kind=kind) if kind else skipped

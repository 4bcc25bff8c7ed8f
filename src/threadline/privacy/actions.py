"""Writes for privacy operations: settings, export requests, the erasure request → confirm → erase steps,
retention policies. Callers own the transaction; each step leaves an audit entry."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from threadline.audit.actions import record, record_change
from threadline.channels.models import Channel
from threadline.contacts.models import Contact
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.time import now
from threadline.privacy import retention
from threadline.privacy.models import (
    ContactExport,
    ErasureRequest,
    PrivacySettings,
    RetentionKind,
    RetentionPolicy,
)
from threadline.privacy.queries import open_erasure_of, settings_for
from threadline.privacy.scope import contact_ref
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

MAX_GRACE_DAYS = 90
MAX_RETENTION_DAYS = 36500


# ── settings ─────────────────────────────────────────────────────────────────────────────────────────
def do_update_settings(actor: Membership, *, erasure_grace_days: int | None = None) -> PrivacySettings:
    require(actor, Permission.ADMIN_SECURITY)
    current = settings_for(actor.workspace_id)
    changes: dict[str, object] = {}
    if erasure_grace_days is not None and erasure_grace_days != current.erasure_grace_days:
        if not 0 <= erasure_grace_days <= MAX_GRACE_DAYS:
            raise ValidationFailed(_("The grace period is 0 to %(max)d days.") % {"max": MAX_GRACE_DAYS},
                                   code="invalid_grace_days", field="erasure_grace_days")
        changes["erasure_grace_days"] = current.erasure_grace_days = erasure_grace_days
    if changes:
        current.save()
        record("workspace.settings_changed", workspace_id=actor.workspace_id, target_type="workspace",
               target_id=actor.workspace_id, details=changes, actor=actor)
    return current


# ── export ───────────────────────────────────────────────────────────────────────────────────────────
def do_request_export(actor: Membership, contact: Contact) -> ContactExport:
    """Queue the archive of `contact` (made by `export_contact_task`)."""
    from threadline.privacy.tasks import export_contact_task

    require(actor, Permission.EXPORT)
    export = ContactExport.objects.create(workspace_id=contact.workspace_id, contact=contact, requested_by=actor)
    export_contact_task.enqueue(export.pk, unique_key=f"privacy-export:{export.pk}")
    record("contact.exported", workspace_id=contact.workspace_id, target_type="contact", target_id=contact.pk,
           details={"export_id": export.pk}, actor=actor)
    return export


def do_store_export(export: ContactExport, content: bytes, counts: dict[str, int]) -> ContactExport:
    name = default_storage.save(f"exports/{uuid.uuid4().hex}.zip", ContentFile(content))
    export.path, export.size, export.state = name, len(content), ContactExport.State.READY
    export.finished_at = now()
    export.save(update_fields=["path", "size", "state", "finished_at", "updated_at"])
    return export


def do_expire_export(export: ContactExport) -> None:
    if export.path:
        default_storage.delete(export.path)
    export.path, export.state = "", ContactExport.State.EXPIRED
    export.save(update_fields=["path", "state", "updated_at"])


# ── erasure ──────────────────────────────────────────────────────────────────────────────────────────
def do_request_erasure(actor: Membership | None, contact: Contact, *, reason: str = "") -> ErasureRequest:
    """Step 1: the request. Nothing is erased until it is confirmed and its grace period has passed."""
    if actor is not None:
        require(actor, Permission.ERASE)
    if open_erasure_of(contact.workspace_id, contact.pk) is not None:
        raise Conflict(_("An erasure of this customer is already requested."), code="erasure_exists")
    erasure = ErasureRequest.objects.create(
        workspace_id=contact.workspace_id, contact=contact, contact_ref=contact_ref(contact.workspace_id, contact.pk),
        requested_by=actor, reason=(reason or "")[:500],
    )
    record_change("erasure.requested", erasure, {"contact_id": contact.pk}, actor=actor)
    return erasure


def do_confirm_erasure(actor: Membership | None, erasure: ErasureRequest, *,
                       grace: dt.timedelta | None = None) -> ErasureRequest:
    """Step 2: confirmed; the scheduler erases it once `due_at` (now + the workspace's grace period) passes."""
    if actor is not None:
        require(actor, Permission.ERASE)
    if erasure.state != ErasureRequest.State.REQUESTED:
        raise Conflict(_("Only a requested erasure can be confirmed."), code="erasure_not_requested")
    if grace is None:
        grace = dt.timedelta(days=settings_for(erasure.workspace_id).erasure_grace_days)
    moment = now()
    erasure.state, erasure.confirmed_by, erasure.confirmed_at = ErasureRequest.State.SCHEDULED, actor, moment
    erasure.due_at = moment + grace
    erasure.save(update_fields=["state", "confirmed_by", "confirmed_at", "due_at", "updated_at"])
    record_change("erasure.confirmed", erasure, {"due_at": erasure.due_at.isoformat()}, actor=actor)
    return erasure


def do_cancel_erasure(actor: Membership | None, erasure: ErasureRequest) -> ErasureRequest:
    if actor is not None:
        require(actor, Permission.ERASE)
    if erasure.state not in (ErasureRequest.State.REQUESTED, ErasureRequest.State.SCHEDULED):
        raise Conflict(_("This erasure can no longer be cancelled."), code="erasure_not_cancellable")
    erasure.state, erasure.cancelled_at = ErasureRequest.State.CANCELLED, now()
    erasure.save(update_fields=["state", "cancelled_at", "updated_at"])
    record_change("erasure.cancelled", erasure, actor=actor)
    return erasure


def do_run_erasure(erasure: ErasureRequest, *, actor: object = None) -> ErasureRequest:
    """Step 3: erase the contact now (the scheduler when due, or the operator's `--now`)."""
    from threadline.privacy.erasure import do_erase_contact

    if erasure.state == ErasureRequest.State.DONE:
        return erasure
    counts = do_erase_contact(erasure.contact, actor=actor) if erasure.contact_id else {}
    erasure.refresh_from_db(fields=["contact"])
    erasure.state, erasure.done_at, erasure.counts, erasure.reason = ErasureRequest.State.DONE, now(), counts, ""
    erasure.save(update_fields=["state", "done_at", "counts", "reason", "updated_at"])
    return erasure


# ── retention ────────────────────────────────────────────────────────────────────────────────────────
def check_policy(kind: str, days: int, channel: Channel | None) -> None:
    if kind not in RetentionKind.values:
        raise ValidationFailed(_("Unknown retention kind %(kind)s.") % {"kind": kind}, field="kind")
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValidationFailed(_("Keep data 1 to %(max)d days.") % {"max": MAX_RETENTION_DAYS}, field="days")
    if channel is not None and kind == RetentionKind.AUDIT_ENTRIES:
        raise ValidationFailed(_("Audit entries have a workspace policy only."), code="workspace_only",
                               field="channel_id")


def do_set_policy(actor: Membership, kind: str, days: int | None, *, channel: Channel | None = None) -> None:
    """Keep `kind` for `days` in the workspace or on `channel`; `days=None` removes the policy (keep forever)."""
    require(actor, Permission.ADMIN_SECURITY)
    rows = RetentionPolicy.objects.filter(workspace_id=actor.workspace_id, kind=kind, channel=channel)
    if days is None:
        rows.delete()
    else:
        check_policy(kind, days, channel)
        RetentionPolicy.objects.update_or_create(workspace_id=actor.workspace_id, kind=kind, channel=channel,
                                                 defaults={"days": days})
    record("retention.changed", workspace_id=actor.workspace_id, target_type="channel" if channel else "workspace",
           target_id=channel.pk if channel else actor.workspace_id, details={"kind": kind, "days": days},
           actor=actor)


def preview_policy(actor: Membership, kind: str, days: int | None, *, channel: Channel | None = None,
                   ) -> dict[str, int]:
    """The dry run as it would be with this policy saved (or removed, `days=None`), counted by kind; nothing is
    kept: the policy is set in a savepoint that is rolled back."""
    with transaction.atomic():
        do_set_policy(actor, kind, days, channel=channel)
        counts = retention.dry_run(actor.workspace_id)
        transaction.set_rollback(True)
    return counts


def do_run_retention(actor: Membership) -> dict[str, int]:
    """Apply the workspace's policies now, as the scheduler's sweep does (recorded as `retention.applied`)."""
    require(actor, Permission.ADMIN_SECURITY)
    return retention.apply(actor.workspace_id)


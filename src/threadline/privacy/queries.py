"""Reads for privacy operations; `access_*` are the permission-checked lookups (admins only)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.privacy.models import ContactExport, ErasureRequest, PrivacySettings, RetentionPolicy
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def settings_for(workspace_id: int) -> PrivacySettings:
    """The workspace's settings (defaults, unsaved, when no admin changed them)."""
    return PrivacySettings.objects.filter(workspace_id=workspace_id).first() or PrivacySettings(
        workspace_id=workspace_id)


def list_exports(actor: Membership) -> QuerySet[ContactExport]:
    require(actor, Permission.EXPORT)
    return ContactExport.objects.filter(workspace_id=actor.workspace_id)


def access_export(actor: Membership, export_id: int) -> ContactExport:
    export = list_exports(actor).filter(pk=export_id).first()
    if export is None:
        raise NotFound(_("No such export."), code="export_not_found")
    return export


def list_erasures(actor: Membership) -> QuerySet[ErasureRequest]:
    require(actor, Permission.ERASE)
    return ErasureRequest.objects.filter(workspace_id=actor.workspace_id)


def access_erasure(actor: Membership, erasure_id: int) -> ErasureRequest:
    erasure = list_erasures(actor).filter(pk=erasure_id).first()
    if erasure is None:
        raise NotFound(_("No such erasure request."), code="erasure_not_found")
    return erasure


def list_policies(actor: Membership) -> QuerySet[RetentionPolicy]:
    require(actor, Permission.ADMIN_SECURITY)
    return RetentionPolicy.objects.filter(workspace_id=actor.workspace_id).order_by("kind", "channel_id")


def open_erasure_of(workspace_id: int, contact_id: int) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(
        workspace_id=workspace_id, contact_id=contact_id,
        state__in=[ErasureRequest.State.REQUESTED, ErasureRequest.State.SCHEDULED]).first()

"""Data-subject requests and retention for workspace admins:

    POST /contacts/{id}/export            queue a contact's archive → GET /privacy/exports/{id}/download
    POST /contacts/{id}/erasure           request an erasure → POST /privacy/erasures/{id}/confirm (scheduled
                                          after the grace period) or /cancel
    GET|PATCH /privacy/settings           the erasure grace period
    GET|PUT /privacy/retention            retention policies; GET /privacy/retention/dry-run counts what would go
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpRequest
from ninja import Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.channels.queries import access_channel
from threadline.contacts.queries import access_contact
from threadline.core.schemas import Id
from threadline.privacy import actions, retention
from threadline.privacy.export import export_file_response
from threadline.privacy.models import ContactExport, ErasureRequest, PrivacySettings, RetentionPolicy
from threadline.privacy.queries import (
    access_erasure,
    access_export,
    list_erasures,
    list_exports,
    list_policies,
    settings_for,
)
from threadline.privacy.schemas import (
    ContactExportOut,
    ErasureIn,
    ErasureOut,
    PrivacySettingsOut,
    PrivacySettingsPatch,
    RetentionDryRunOut,
    RetentionPolicyIn,
    RetentionPolicyOut,
)
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["privacy"])
LISTED = 200


def _allowed(request: HttpRequest, permission: str) -> Any:
    agent = actor(request)
    require(agent, permission)
    return agent


# ── exports ──────────────────────────────────────────────────────────────────────────────────────────
@router.post("/contacts/{contact_id}/export", response=responses(ContactExportOut, 202),
             summary="Export everything about a contact (admins)")
def export_contact(request: HttpRequest, contact_id: Id) -> Status[Any]:
    """Queues a zip of JSON documents and attachment files; poll the export until `download_url` is set."""
    agent = _allowed(request, Permission.EXPORT)
    with transaction.atomic():
        export = actions.do_request_export(agent, access_contact(agent, contact_id))
    return Status(202, export)


@router.get("/privacy/exports", response=responses(list[ContactExportOut]), summary="Recent exports (admins)")
def exports(request: HttpRequest) -> list[ContactExport]:
    return list(list_exports(actor(request)).order_by("-pk")[:LISTED])


@router.get("/privacy/exports/{export_id}", response=responses(ContactExportOut), summary="Get an export (admins)")
def export_detail(request: HttpRequest, export_id: Id) -> ContactExport:
    return access_export(actor(request), export_id)


@router.get("/privacy/exports/{export_id}/download", response=responses(None),
            summary="Download an export archive (admins)",
            openapi_extra={"responses": {200: {"description": "The zip archive", "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}}}}}})
def export_download(request: HttpRequest, export_id: Id) -> FileResponse:
    return export_file_response(access_export(actor(request), export_id))


# ── erasures ─────────────────────────────────────────────────────────────────────────────────────────
@router.post("/contacts/{contact_id}/erasure", response=responses(ErasureOut, 201),
             summary="Request the erasure of a contact (admins)")
def request_erasure(request: HttpRequest, contact_id: Id, payload: ErasureIn | None = None) -> Status[Any]:
    """Nothing is erased yet: confirm the request, then it runs after the workspace's grace period."""
    agent = _allowed(request, Permission.ERASE)
    with transaction.atomic():
        erasure = actions.do_request_erasure(agent, access_contact(agent, contact_id),
                                             reason=payload.reason if payload else "")
    return Status(201, erasure)


@router.get("/privacy/erasures", response=responses(list[ErasureOut]), summary="Erasure requests (admins)")
def erasures(request: HttpRequest) -> list[ErasureRequest]:
    return list(list_erasures(actor(request)).order_by("-pk")[:LISTED])


@router.get("/privacy/erasures/{erasure_id}", response=responses(ErasureOut), summary="Get an erasure request")
def erasure_detail(request: HttpRequest, erasure_id: Id) -> ErasureRequest:
    return access_erasure(actor(request), erasure_id)


@router.post("/privacy/erasures/{erasure_id}/confirm", response=responses(ErasureOut),
             summary="Confirm an erasure: it runs after the grace period (admins)")
def confirm_erasure(request: HttpRequest, erasure_id: Id) -> ErasureRequest:
    agent = _allowed(request, Permission.ERASE)
    with transaction.atomic():
        return actions.do_confirm_erasure(agent, access_erasure(agent, erasure_id))


@router.post("/privacy/erasures/{erasure_id}/cancel", response=responses(ErasureOut),
             summary="Cancel an erasure before it runs (admins)")
def cancel_erasure(request: HttpRequest, erasure_id: Id) -> ErasureRequest:
    agent = _allowed(request, Permission.ERASE)
    with transaction.atomic():
        return actions.do_cancel_erasure(agent, access_erasure(agent, erasure_id))


# ── settings and retention ───────────────────────────────────────────────────────────────────────────
@router.get("/privacy/settings", response=responses(PrivacySettingsOut), summary="Privacy settings (admins)")
def privacy_settings(request: HttpRequest) -> PrivacySettings:
    return settings_for(_allowed(request, Permission.ADMIN_SECURITY).workspace_id)


@router.patch("/privacy/settings", response=responses(PrivacySettingsOut), summary="Change privacy settings")
def update_privacy_settings(request: HttpRequest, payload: PrivacySettingsPatch) -> PrivacySettings:
    agent = _allowed(request, Permission.ADMIN_SECURITY)
    with transaction.atomic():
        return actions.do_update_settings(agent, erasure_grace_days=payload.erasure_grace_days)


@router.get("/privacy/retention", response=responses(list[RetentionPolicyOut]), summary="Retention policies")
def retention_policies(request: HttpRequest) -> list[RetentionPolicy]:
    return list(list_policies(actor(request)))


@router.put("/privacy/retention", response=responses(list[RetentionPolicyOut]),
            summary="Set or remove one retention policy (admins)")
def set_retention_policy(request: HttpRequest, payload: RetentionPolicyIn) -> list[RetentionPolicy]:
    agent = _allowed(request, Permission.ADMIN_SECURITY)
    with transaction.atomic():
        channel = access_channel(agent, payload.channel_id) if payload.channel_id else None
        actions.do_set_policy(agent, payload.kind.value, payload.days, channel=channel)
    return list(list_policies(agent))


@router.get("/privacy/retention/dry-run", response=responses(RetentionDryRunOut),
            summary="What the retention policies would delete now (admins)")
def retention_dry_run(request: HttpRequest) -> dict[str, Any]:
    return {"would_delete": retention.dry_run(_allowed(request, Permission.ADMIN_SECURITY).workspace_id)}

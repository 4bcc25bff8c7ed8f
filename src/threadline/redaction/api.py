"""/api/v1 redaction:

    POST /messages/{id}/redact     {"text": "substring"} or {"attachment_id": n}: remove it from every copy
                                   (admins and agents; light agents get 403)
    GET|PATCH /redaction/settings  the workspace's masking at ingest and its countries (admins)
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.conversations.queries import access_message
from threadline.core.schemas import Id
from threadline.redaction import actions
from threadline.redaction.schemas import RedactedOut, RedactIn, RedactionSettingsOut, RedactionSettingsPatch
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["redaction"])


@router.post("/messages/{message_id}/redact", response=responses(RedactedOut),
             summary="Redact a substring or an attachment of a message, in every copy")
def redact_message(request: HttpRequest, message_id: Id, payload: RedactIn) -> dict[str, Any]:
    """The text is replaced by `[redacted]` in the message, its html and metadata, the conversation's subject,
    the raw inbound payload, the outbox events (what webhooks deliver) and job arguments; an attachment's file
    is replaced by a placeholder. Recorded in the audit log (who and when, never what)."""
    agent = actor(request)
    with transaction.atomic():
        message = access_message(agent, message_id)
        text, attachment = actions.check_redaction(agent, message, payload.text, payload.attachment_id)
        copies = actions.do_redact_message(agent, message, text=text, attachment=attachment)
    return {"message": access_message(agent, message_id), "copies": copies}


def _settings_out(workspace: Any) -> dict[str, Any]:
    return {"redact_pii": workspace.redact_pii, "countries": workspace.countries,
            "effective_countries": workspace.country_codes}


@router.get("/redaction/settings", response=responses(RedactionSettingsOut), summary="Redaction settings (admins)")
def redaction_settings(request: HttpRequest) -> dict[str, Any]:
    agent = actor(request)
    require(agent, Permission.ADMIN_SECURITY)
    return _settings_out(agent.workspace)


@router.patch("/redaction/settings", response=responses(RedactionSettingsOut),
              summary="Change the redaction settings (admins)")
def update_redaction_settings(request: HttpRequest, payload: RedactionSettingsPatch) -> dict[str, Any]:
    agent = actor(request)
    with transaction.atomic():
        workspace = actions.do_update_settings(agent, redact_pii=payload.redact_pii, countries=payload.countries)
    return _settings_out(workspace)

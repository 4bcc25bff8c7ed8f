"""Agents fill the workspace's custom fields: a contact's in the customer panel, a conversation's in its
header (`templatetags/custom_fields.py` renders both boxes). Each posts every field of its box; an empty value
removes one. Also the contact's stated preferred channel. Fetch requests get JSON, plain forms a redirect back to
the conversation."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from threadline.contacts.actions import do_update_contact
from threadline.contacts.models import CustomField
from threadline.contacts.queries import access_contact, list_fields
from threadline.conversations.custom_fields import do_set_custom_fields
from threadline.conversations.queries import access_conversation
from threadline.tenancy.permissions import Permission, require
from threadline.web.session import agent_view, wants_json


def _posted(request: HttpRequest, workspace_id: int, applies_to: str) -> dict[str, str]:
    return {f.key: request.POST.get(f"field_{f.key}", "") for f in list_fields(workspace_id, applies_to)
            if f"field_{f.key}" in request.POST}


def _back(request: HttpRequest, body: dict[str, object]) -> HttpResponse:
    back = request.POST.get("back", "/app/")
    return JsonResponse(body) if wants_json(request) else redirect(back if back.startswith("/app/") else "/app/")


@require_POST
@agent_view
def contact_fields_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ASSIGN)
    with transaction.atomic():
        contact = access_contact(agent, contact_id)
        values = _posted(request, agent.workspace_id, CustomField.AppliesTo.CONTACT)
        do_update_contact(contact, actor=agent, attributes={**(contact.attributes or {}), **values})
    return _back(request, {"contact_id": contact.pk, "attributes": contact.attributes})


@require_POST
@agent_view
def conversation_fields_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ASSIGN)
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id, for_update=True)
        do_set_custom_fields(agent, conversation,
                             _posted(request, agent.workspace_id, CustomField.AppliesTo.CONVERSATION))
    return _back(request, {"conversation_id": conversation.pk, "custom_fields": conversation.custom_fields})


@require_POST
@agent_view
def contact_preferred_channel_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The contact's stated preferred channel kind (empty: learned from where they write, else their region's)."""
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.CONTACTS_EDIT)
    with transaction.atomic():
        contact = access_contact(agent, contact_id)
        do_update_contact(contact, actor=agent, preferred_channel=request.POST.get("preferred_channel", "").strip())
    return _back(request, {"contact_id": contact.pk, "preferred_channel": contact.preferred_channel})

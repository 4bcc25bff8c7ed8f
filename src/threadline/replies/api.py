"""/api/v1/replies: templates (canned, automatic, notification) with language variants, rendering one for a
conversation, and macros. Admins manage templates and macros; agents render and apply them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.conversations.queries import access_conversation
from threadline.core.schemas import Id
from threadline.replies.actions import (
    do_apply_macro,
    do_delete_macro,
    do_delete_template,
    do_save_macro,
    do_save_template,
)
from threadline.replies.queries import access_macro, access_template, list_macros, list_templates
from threadline.replies.rendering import render
from threadline.replies.schemas import (
    MacroApplyIn,
    MacroApplyOut,
    MacroIn,
    MacroOut,
    ReplyTemplateIn,
    ReplyTemplateOut,
    TemplateRenderedOut,
    TemplateRenderIn,
)
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["replies"])


@router.get("/templates", response=responses(list[ReplyTemplateOut]), summary="List templates")
def templates(request: HttpRequest) -> Any:
    return list(list_templates(actor(request)).order_by("name")[:1000])


@router.post("/templates", response=responses(ReplyTemplateOut, 201), summary="Create a template (admins)")
def create_template(request: HttpRequest, payload: ReplyTemplateIn) -> tuple[int, Any]:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        template = do_save_template(me.workspace, None, **payload.model_dump(mode="json"))
    return Status(201, access_template(me, template.pk))


@router.get("/templates/{template_id}", response=responses(ReplyTemplateOut), summary="Get a template")
def template(request: HttpRequest, template_id: Id) -> Any:
    return access_template(actor(request), template_id)


@router.put("/templates/{template_id}", response=responses(ReplyTemplateOut), summary="Replace a template (admins)")
def replace_template(request: HttpRequest, template_id: Id, payload: ReplyTemplateIn) -> Any:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        do_save_template(me.workspace, access_template(me, template_id), **payload.model_dump(mode="json"))
    return access_template(me, template_id)


@router.delete("/templates/{template_id}", response=responses(None, 204), summary="Delete a template (admins)")
def delete_template(request: HttpRequest, template_id: Id) -> tuple[int, None]:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        do_delete_template(access_template(me, template_id))
    return Status(204, None)


@router.post("/templates/{template_id}/render", response=responses(TemplateRenderedOut),
             summary="Render a template for a conversation: its language (or a fallback), its channel")
def render_template(request: HttpRequest, template_id: Id, payload: TemplateRenderIn) -> Any:
    me = actor(request)
    conversation = access_conversation(me, payload.conversation_id)
    return render(access_template(me, template_id), conversation, agent=me, channel_kind=payload.channel_kind)


@router.get("/macros", response=responses(list[MacroOut]), summary="List macros")
def macros(request: HttpRequest) -> Any:
    return list(list_macros(actor(request)).order_by("name")[:1000])


@router.post("/macros", response=responses(MacroOut, 201), summary="Create a macro (admins)")
def create_macro(request: HttpRequest, payload: MacroIn) -> tuple[int, Any]:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        return Status(201, do_save_macro(me.workspace, None, **payload.fields()))


@router.get("/macros/{macro_id}", response=responses(MacroOut), summary="Get a macro")
def macro(request: HttpRequest, macro_id: Id) -> Any:
    return access_macro(actor(request), macro_id)


@router.put("/macros/{macro_id}", response=responses(MacroOut), summary="Replace a macro (admins)")
def replace_macro(request: HttpRequest, macro_id: Id, payload: MacroIn) -> Any:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        return do_save_macro(me.workspace, access_macro(me, macro_id), **payload.fields())


@router.delete("/macros/{macro_id}", response=responses(None, 204), summary="Delete a macro (admins)")
def delete_macro(request: HttpRequest, macro_id: Id) -> tuple[int, None]:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        do_delete_macro(access_macro(me, macro_id))
    return Status(204, None)


@router.post("/macros/{macro_id}/apply", response=responses(MacroApplyOut),
             summary="Apply a macro to a conversation: its reply, then its changes, all or nothing")
def apply_macro(request: HttpRequest, macro_id: Id, payload: MacroApplyIn) -> dict[str, Any]:
    me = actor(request)
    require(me, Permission.REPLY)
    with transaction.atomic():
        macro = access_macro(me, macro_id)
        conversation = access_conversation(me, payload.conversation_id)
        message = do_apply_macro(me, conversation, macro)
    conversation = access_conversation(me, payload.conversation_id)
    return {"conversation_id": conversation.pk, "message_id": message.pk if message else None,
            "status": conversation.status, "priority": conversation.priority,
            "tags": sorted(t.name for t in conversation.tags.all())}

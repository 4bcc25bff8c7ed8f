"""/api/v1/custom-fields: the workspace's own contact and conversation fields. Every agent reads them (to
know what `attributes` and `custom_fields` hold); admins with `admin.automations` define them, through the
same actions as the /app/admin/fields screen."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.contacts.custom_fields import do_delete_field, do_save_field
from threadline.contacts.queries import access_field, list_fields
from threadline.contacts.schemas import CustomFieldIn, CustomFieldOut
from threadline.core.schemas import Id
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["custom fields"])


@router.get("", response=responses(list[CustomFieldOut]), summary="The workspace's custom fields")
def custom_fields(request: HttpRequest) -> Any:
    return list(list_fields(actor(request).workspace_id).order_by("applies_to", "position", "id")[:500])


@router.post("", response=responses(CustomFieldOut, 201), summary="Define a custom field (admin.automations)")
def create_custom_field(request: HttpRequest, payload: CustomFieldIn) -> Status[Any]:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        return Status(201, do_save_field(me.workspace, None, **payload.model_dump()))


@router.put("/{field_id}", response=responses(CustomFieldOut), summary="Change a custom field (admin.automations)")
def replace_custom_field(request: HttpRequest, field_id: Id, payload: CustomFieldIn) -> Any:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        return do_save_field(me.workspace, access_field(me, field_id), **payload.model_dump())


@router.delete("/{field_id}", response=responses(None, 204),
               summary="Delete a custom field; stored values stay (admin.automations)")
def delete_custom_field(request: HttpRequest, field_id: Id) -> Status[None]:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        do_delete_field(access_field(me, field_id))
    return Status(204, None)

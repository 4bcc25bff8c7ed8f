"""/app/admin/fields: the workspace's tags (rename, merge, delete) and custom contact and conversation fields
(key, label, type, options), through contacts.custom_fields and conversations.tags."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from threadline.contacts.custom_fields import do_delete_field, do_save_field
from threadline.contacts.models import CustomField
from threadline.contacts.queries import access_field, list_fields
from threadline.conversations.queries import access_tag, list_tags
from threadline.conversations.tags import do_delete_tag, do_rename_tag
from threadline.tenancy.permissions import Permission
from threadline.web.admin_crud import Screen
from threadline.web.admin_inputs import form_submit, optional_number
from threadline.web.views_admin import admin_screen

TEMPLATE = "web/admin/fields.html"
URL = "/app/admin/fields"
TAGS_PER_PAGE = 100


def _context(request: HttpRequest) -> dict[str, Any]:
    me = request.agent  # type: ignore[attr-defined]
    fields = list(list_fields(me.workspace_id).order_by("applies_to", "position", "id"))
    return {
        "fields": [{"field": f, "action": f"{URL}/{f.pk}"} for f in fields],
        "kinds": CustomField.Kind.choices, "targets": CustomField.AppliesTo.choices,
        "tags": Paginator(list_tags(me), TAGS_PER_PAGE).get_page(request.GET.get("page")),
    }


def _save(request: HttpRequest, field: CustomField | None) -> CustomField:
    me = request.agent  # type: ignore[attr-defined]
    options = [line for line in request.POST.get("options", "").replace(",", "\n").splitlines()]
    return do_save_field(me.workspace, field, key=request.POST.get("key", ""), label=request.POST.get("label", ""),
                         kind=request.POST.get("kind", ""), applies_to=request.POST.get("applies_to", ""),
                         options=options, position=optional_number(request, "position", low=-10_000,
                                                                   high=10_000) or 0)


fields_view, field_update_view, field_delete_view = Screen(
    permission=Permission.ADMIN_AUTOMATIONS, template=TEMPLATE, url=URL, context=_context, access=access_field,
    save=_save, delete=do_delete_field, created=gettext_lazy("Field created."), saved=gettext_lazy("Field saved."),
    deleted=gettext_lazy("Field deleted."),
).views()


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def tag_rename_view(request: HttpRequest, tag_id: int) -> HttpResponse:
    tag = access_tag(request.agent, tag_id)  # type: ignore[attr-defined]
    return form_submit(request, lambda: do_rename_tag(tag, request.POST.get("name", "")), done=_("Tag saved."),
                       back=f"{URL}#tags", template=TEMPLATE, context=lambda: _context(request))


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def tag_delete_view(request: HttpRequest, tag_id: int) -> HttpResponse:
    tag = access_tag(request.agent, tag_id)  # type: ignore[attr-defined]
    return form_submit(request, lambda: do_delete_tag(tag), done=_("Tag deleted."), back=f"{URL}#tags",
                       template=TEMPLATE, context=lambda: _context(request))

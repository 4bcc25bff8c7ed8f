"""Reads for templates and macros; `access_*` are the permission-checked lookups."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.replies.models import Macro, Template
from threadline.tenancy.models import Membership


def list_templates(actor: Membership) -> QuerySet[Template]:
    return Template.objects.filter(workspace_id=actor.workspace_id).prefetch_related("variants")


def access_template(actor: Membership, template_id: int) -> Template:
    template = list_templates(actor).filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("No such template."), code="template_not_found")
    return template


def list_macros(actor: Membership) -> QuerySet[Macro]:
    return Macro.objects.filter(workspace_id=actor.workspace_id).select_related("template")


def access_macro(actor: Membership, macro_id: int) -> Macro:
    macro = list_macros(actor).filter(pk=macro_id).first()
    if macro is None:
        raise NotFound(_("No such macro."), code="macro_not_found")
    return macro

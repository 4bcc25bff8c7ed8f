"""The contact panel's privacy actions (admins): export a customer's data and download it; request, confirm
and cancel an erasure. The steps and their rules are the privacy domain's; these views only parse and look up."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from threadline.contacts.queries import access_contact
from threadline.core.errors import NotFound
from threadline.privacy import actions
from threadline.privacy.export import export_file_response
from threadline.privacy.queries import access_erasure, access_export
from threadline.tenancy.permissions import Permission, require
from threadline.web.session import agent_view
from threadline.web.views import _done


def _back(request: HttpRequest) -> str:
    back = request.POST.get("back", "/app/")
    return back if back.startswith("/app/") else "/app/"


@require_POST
@agent_view
def export_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.EXPORT)
    with transaction.atomic():
        export = actions.do_request_export(agent, access_contact(agent, contact_id))
    return _done(request, {"export_id": export.pk, "state": export.state}, _back(request))


@require_GET
@agent_view
def export_download_view(request: HttpRequest, export_id: int) -> HttpResponse:
    export = access_export(request.agent, export_id)  # type: ignore[attr-defined]
    return export_file_response(export)


@require_POST
@agent_view
def erasure_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ERASE)
    with transaction.atomic():
        erasure = actions.do_request_erasure(agent, access_contact(agent, contact_id),
                                             reason=request.POST.get("reason", ""))
    return _done(request, {"erasure_id": erasure.pk, "state": erasure.state}, _back(request))


@require_POST
@agent_view
def erasure_step_view(request: HttpRequest, erasure_id: int, step: str) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        erasure = access_erasure(agent, erasure_id)
        if step == "confirm":
            erasure = actions.do_confirm_erasure(agent, erasure)
        elif step == "cancel":
            erasure = actions.do_cancel_erasure(agent, erasure)
        else:
            raise NotFound(_("No such step."), code="not_found")
    return _done(request, {"erasure_id": erasure.pk, "state": erasure.state}, _back(request))

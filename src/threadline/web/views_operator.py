"""The installation operator's "Workspaces" screen (/operator/workspaces): every workspace, and a form that creates
one with its first admin, who gets a one-time setup link (or signs in with the password they already have).

Only the operator (`threadline createsuperuser`: a superuser with a seat in no workspace) whose session passed the
one sign-in flow opens it; a workspace admin is refused (403): creating workspaces crosses tenants."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from threadline.core.bootstrap import do_create_admin
from threadline.core.errors import PermissionDenied
from threadline.tenancy.models import Workspace
from threadline.tenancy.signin import is_operator, second_factor_passed
from threadline.tenancy.workspace_settings import do_create_workspace_as_operator
from threadline.web.admin_forms import FormErrors
from threadline.web.session import activate_for, error_response

TEMPLATE = "web/operator_workspaces.html"


def operator_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or not second_factor_passed(user, request.session):
            return redirect(f"/login?next={quote(request.get_full_path())}")
        request.LANGUAGE_CODE = activate_for(user)
        if not is_operator(user):
            return error_response(request, PermissionDenied(
                _("Only the installation's operator creates workspaces."), code="operator_only"))
        return view(request, *args, **kwargs)

    return wrapped


def _page(request: HttpRequest, *, error: Exception | None = None, created: Any = None, status: int = 200,
          ) -> HttpResponse:
    context = {"workspaces": Workspace.objects.order_by("name"), "created": created, "form": request.POST if error else {},
               "error": getattr(error, "message", None)}
    return render(request, TEMPLATE, context, status=getattr(error, "status", status))


@require_http_methods(["GET", "POST"])
@operator_view
def workspaces_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    data = request.POST
    try:
        with transaction.atomic():
            workspace = do_create_workspace_as_operator(request.user, data.get("name", ""),
                                                        default_region=data.get("default_region", "US"))
            first = do_create_admin(workspace, data.get("email", ""))
    except FormErrors as exc:
        return _page(request, error=exc)
    return _page(request, created=first, status=201)

"""The one-time setup page: `/setup/<token>/` lets a new admin (or the operator) choose a password, once.

Guessing links is throttled per client address (core.throttle): every unknown or spent link counts.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from threadline.core.bootstrap import do_complete_setup, find_setup_link
from threadline.core.client_address import client_address
from threadline.core.errors import NotFound, ValidationFailed
from threadline.core.throttle import SETUP_LINK
from threadline.tenancy.signin import PASSWORD_ONLY, is_operator, record_sign_in

TEMPLATE = "core/setup.html"
ANY_LINK = "link"


def _invalid(request: HttpRequest, exc: NotFound, client: str) -> HttpResponse:
    SETUP_LINK.failed(ANY_LINK, client)
    return render(request, TEMPLATE, {"invalid": str(exc)}, status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def setup_view(request: HttpRequest, token: str) -> HttpResponse:
    client = client_address(request)
    wait = SETUP_LINK.retry_after(ANY_LINK, client)
    if wait:
        response = render(request, TEMPLATE, {"invalid": _("Too many attempts. Wait a few minutes and try again.")},
                          status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        link = find_setup_link(token)
    except NotFound as exc:
        return _invalid(request, exc, client)
    if request.method == "GET":
        return render(request, TEMPLATE, {"email": link.user.email})
    try:
        with transaction.atomic():
            user = do_complete_setup(token, request.POST.get("password", ""), request.POST.get("confirm", ""))
    except NotFound as exc:
        return _invalid(request, exc, client)
    except ValidationFailed as exc:
        return render(request, TEMPLATE, {"email": link.user.email, "error": str(exc)}, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    record_sign_in(request.session, PASSWORD_ONLY)
    return redirect("/admin/" if is_operator(user) else "/app/")


urlpatterns = [path("<str:token>/", setup_view, name="setup")]

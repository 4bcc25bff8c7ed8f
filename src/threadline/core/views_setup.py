"""The one-time setup page: `/setup/<token>/` lets the first admin choose a password, once."""

from __future__ import annotations

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from threadline.core.bootstrap import do_complete_setup, find_setup_link
from threadline.core.errors import NotFound, ValidationFailed

TEMPLATE = "core/setup.html"


@never_cache
@require_http_methods(["GET", "POST"])
def setup_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = find_setup_link(token)
    except NotFound as exc:
        return render(request, TEMPLATE, {"invalid": str(exc)}, status=404)
    if request.method == "GET":
        return render(request, TEMPLATE, {"email": link.user.email})
    try:
        with transaction.atomic():
            user = do_complete_setup(token, request.POST.get("password", ""), request.POST.get("confirm", ""))
    except NotFound as exc:
        return render(request, TEMPLATE, {"invalid": str(exc)}, status=404)
    except ValidationFailed as exc:
        return render(request, TEMPLATE, {"email": link.user.email, "error": str(exc)}, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("/app/")


urlpatterns = [path("<str:token>/", setup_view, name="setup")]

"""The NinjaAPI subclass behind /api/v1: every answer under the prefix is JSON, even a wrong path or method."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from threadline.api.errors import error_body


@csrf_exempt
def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return JsonResponse(error_body("not_found", _("No such API endpoint.")), status=404)


def json_method_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """django-ninja answers a method a path does not serve with a plain-text 405: make it JSON."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = response.get("Allow", "")
            response = JsonResponse(
                error_body("method_not_allowed", _("This endpoint does not accept %(method)s.") % {
                    "method": request.method}),
                status=405,
            )
            if allowed:
                response["Allow"] = allowed
        return response

    return wrapped


class ThreadlineAPI(NinjaAPI):
    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = json_method_errors(pattern.callback)
        patterns.append(re_path(r"^.*$", unknown_path))
        return patterns

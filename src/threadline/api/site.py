"""The NinjaAPI subclass behind /api/v1: every answer under the prefix is JSON, even a wrong path or method.

`config/urls.py` sends the rest of `/api/` (another version, `/api/` itself) to `unknown_path` too.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from threadline.api.errors import error_body


@csrf_exempt
def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return JsonResponse(error_body("not_found", _("No such API endpoint.")), status=404)


@csrf_exempt
def api_root(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """`/api/v1/` itself: where the machine-readable description and the docs are (django-ninja's is an HTML 404)."""
    if request.method not in ("GET", "HEAD"):
        return as_json_405(request, HttpResponseNotAllowed(["GET", "HEAD"]))
    root = request.path.rstrip("/")
    return JsonResponse({"name": "Threadline API", "version": "1.0.0", "openapi": f"{root}/openapi.json",
                         "docs": f"{root}/docs"})


def as_json_405(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """django-ninja answers a method a path does not serve with a plain-text 405: make it JSON."""
    if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
        return response
    answer = JsonResponse(
        error_body("method_not_allowed", _("This endpoint does not accept %(method)s.") % {"method": request.method}),
        status=405,
    )
    if response.get("Allow"):
        answer["Allow"] = response["Allow"]
    return answer


def json_method_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def wrapped_async(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return as_json_405(request, await view(request, *args, **kwargs))

        return wrapped_async

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return as_json_405(request, view(request, *args, **kwargs))

    return wrapped


class ThreadlineAPI(NinjaAPI):
    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern) and pattern.name == "api-root":
                pattern.callback = api_root
            elif isinstance(pattern, URLPattern):
                pattern.callback = json_method_errors(pattern.callback)
        patterns.append(re_path(r"^.*$", unknown_path))
        return patterns

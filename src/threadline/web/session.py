"""Who is signed in, as which agent, in which language and time zone; and how errors reach the browser.

`agent_view` wraps every workspace view: no session → the sign-in page (or 401 JSON for the page's own
requests); the agent's language and time zone are activated for the request; a ThreadlineError becomes
JSON `{"code", "message"}` with its status for fetch requests, a short page otherwise.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation

from threadline.core.errors import ThreadlineError
from threadline.realtime.auth import membership_for
from threadline.tenancy.actions import do_note_activity

LANGUAGES = ("en", "he", "fa", "th", "cs")


def wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or "application/json" in request.headers.get("Accept", "")


def activate_for(user: Any) -> str:
    language = user.language if user.language in LANGUAGES else settings.LANGUAGE_CODE
    translation.activate(language)
    try:
        timezone.activate(zoneinfo.ZoneInfo(user.time_zone or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.activate(zoneinfo.ZoneInfo("UTC"))
    return language


def error_response(request: HttpRequest, exc: ThreadlineError) -> HttpResponse:
    if wants_json(request):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        return JsonResponse(body, status=exc.status)
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def agent_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        agent = membership_for(request.user, request.session)
        if agent is None:
            if wants_json(request):
                return JsonResponse({"code": "not_signed_in", "message": "Sign in first."}, status=401)
            return redirect(f"/login?next={quote(request.get_full_path())}")
        request.agent = agent  # type: ignore[attr-defined]
        do_note_activity(agent)
        request.LANGUAGE_CODE = activate_for(agent.user)
        try:
            return view(request, *args, **kwargs)
        except ThreadlineError as exc:
            return error_response(request, exc)
        finally:
            timezone.deactivate()

    return wrapped

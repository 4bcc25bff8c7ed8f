"""The frame of the administration screens: `admin_screen(permission)` wraps every /app/admin/ view (signed in,
permission checked through `tenancy.permissions.require`), and `render_admin` renders a screen inside the shared
layout (workspace name, section navigation, the current section marked)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from threadline.core.errors import PermissionDenied
from threadline.tenancy.permissions import require
from threadline.web.admin_nav import grouped_for
from threadline.web.session import agent_view


def admin_screen(permission: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @agent_view
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require(request.agent, permission)  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def render_admin(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    base = {"agent": agent, "nav": grouped_for(agent), "current": request.path.rstrip("/")}
    return render(request, template, {**base, **context}, status=status)


@require_GET
@agent_view
def hub_view(request: HttpRequest) -> HttpResponse:
    nav = grouped_for(request.agent)  # type: ignore[attr-defined]
    if not nav:
        raise PermissionDenied(_("Your role has no administration screens."), code="permission_denied")
    return render_admin(request, "web/admin/hub.html", {})

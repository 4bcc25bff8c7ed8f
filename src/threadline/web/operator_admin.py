"""The Django admin as the installation operator's tool (`/admin/`), never a workspace admin's.

Only the operator (`threadline createsuperuser`: a superuser with a seat in no workspace) whose session passed
the one sign-in flow, second factor included, gets in; everybody else is sent to `/login`, which is also
where the admin's own login page leads. The admin's password-change pages are off: the operator changes
their password with `threadline changepassword EMAIL`, so every password form goes through a throttle.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib.admin import AdminSite
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from threadline.tenancy.signin import is_operator, second_factor_passed


class OperatorAdminSite(AdminSite):
    site_header = "Threadline operator"
    site_title = "Threadline operator"
    site_url = "/operator/workspaces"  # "View site": the operator's screen that creates workspaces

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return is_operator(user) and second_factor_passed(user, request.session)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return redirect(f"/login?next={quote(request.GET.get('next') or '/admin/')}")

    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        raise Http404

    def password_change_done(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        raise Http404

"""The one sign-in flow, for agents and the operator alike: email and password, then a TOTP code when the
account has a confirmed authenticator. `/admin/login/` leads here too.

Between the two steps the session only holds the pending user id (for five minutes); the user is signed in
after the code, and the session records which factor it passed (tenancy.signin), which every area checks.
Both steps are throttled per (account, client address) with exponential back-off (core.throttle).
A workspace that requires single sign-on (threadline.sso) is not opened by a password session, except for its
security admins who passed their second factor (the break-glass path); single sign-on is in `auth_sso.py`.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from threadline.audit.actions import record_sign_in as audit_sign_in
from threadline.core.client_address import client_address
from threadline.core.errors import ValidationFailed
from threadline.core.throttle import LOGIN, SECOND_FACTOR
from threadline.realtime.auth import membership_for
from threadline.realtime.sessions import close_session_sockets
from threadline.sso.queries import SSO_WORKSPACE, password_refused
from threadline.tenancy.models import User
from threadline.tenancy.signin import (
    PASSWORD_ONLY,
    SESSION_FACTOR,
    TOTP,
    has_second_factor,
    is_operator,
    may_sign_in,
    record_sign_in,
    second_factor_passed,
)
from threadline.web.actions import do_verify_totp
from threadline.web.models import TotpDevice
from threadline.web.session import LANGUAGES

PENDING = "tl_pending_user"
PENDING_AT = "tl_pending_at"
PENDING_SECONDS = 300
# An account whose admin forced a reset proved its password (and second factor) but is not signed in until it
# chose a new one (web.auth_passwords.new_password_view): the session holds who, when and which factor.
MUST_CHANGE = "tl_must_change"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/app/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return "/app/"
    return target


def _destination(request: HttpRequest, user: User) -> str:
    """Where a signed-in user goes: `next`, except that the operator (nobody's agent) lands in the admin."""
    target = _next(request)
    if target.startswith("/app") and is_operator(user):
        return "/admin/"
    return target


def too_many(request: HttpRequest, template: str, context: dict[str, object], wait: int) -> HttpResponse:
    context["error"] = _("Too many attempts. Wait a few minutes and try again.")
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(wait)
    return response


def _finish(request: HttpRequest, user: User, factor: str) -> HttpResponse:
    if user.must_change_password:
        request.session.cycle_key()
        request.session[MUST_CHANGE] = {"user": user.pk, "at": time.time(), "factor": factor}
        return redirect(f"/login/new-password?next={_next(request)}")
    return finish_sign_in(request, user, factor)


def finish_sign_in(request: HttpRequest, user: User, factor: str) -> HttpResponse:
    """Sign `user` in on this session (which passed `factor`) and go where they were headed."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    record_sign_in(request.session, factor)
    audit_sign_in(user.email, ok=True, user=user)
    response = redirect(_destination(request, user))
    if user.language in LANGUAGES:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
    return response


def _page_language(request: HttpRequest) -> None:
    translation.activate(translation.get_language_from_request(request))


def _signed_in(request: HttpRequest) -> bool:
    user = request.user
    if is_operator(user):
        return second_factor_passed(user, request.session)
    return membership_for(user, request.session) is not None


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    _page_language(request)
    context = {"next": _next(request), "email": ""}
    if request.method == "GET":
        if _signed_in(request):
            return redirect(_destination(request, request.user))
        return render(request, "web/login.html", context)
    email = (request.POST.get("email") or "").strip().lower()
    context["email"] = email
    client = client_address(request)
    wait = LOGIN.retry_after(email, client)
    if wait:  # refused before the password is even looked at: a locked-out guesser learns nothing
        return too_many(request, "web/login.html", context, wait)
    user = authenticate(request, username=email, password=request.POST.get("password") or "")
    if user is None or not may_sign_in(user):
        LOGIN.failed(email, client)
        audit_sign_in(email, ok=False, reason="password")
        context["error"] = _("The email or password is not right.")
        return render(request, "web/login.html", context, status=400)
    LOGIN.succeeded(email, client)
    return continue_sign_in(request, user)


def continue_sign_in(request: HttpRequest, user: User) -> HttpResponse:
    """The password (or a reset link) is proved: refuse it where the workspace requires single sign-on, ask for
    the second factor when the account has one."""
    for key in (SSO_WORKSPACE, SESSION_FACTOR):  # what an earlier sign-in in this browser proved no longer counts
        request.session.pop(key, None)
    if not is_operator(user) and password_refused(user, has_second_factor=has_second_factor(user)):
        audit_sign_in(user.email, ok=False, user=user, reason="sso_required")
        context = {"next": _next(request), "email": user.email}
        context["error"] = _("Your workspace requires single sign-on: use the button below.")
        context["sso_required"] = True
        return render(request, "web/login.html", context, status=403)
    if has_second_factor(user):
        request.session.cycle_key()
        request.session[PENDING], request.session[PENDING_AT] = user.pk, time.time()
        return redirect(f"/login/verify?next={_next(request)}")
    return _finish(request, user, PASSWORD_ONLY)


@never_cache
@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    _page_language(request)
    user_id, started = request.session.get(PENDING), request.session.get(PENDING_AT, 0)
    if not user_id or time.time() - started > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return redirect("/login")
    context = {"next": _next(request)}
    if request.method == "GET":
        return render(request, "web/verify.html", context)
    client = client_address(request)
    wait = SECOND_FACTOR.retry_after(str(user_id), client)
    if wait:
        return too_many(request, "web/verify.html", context, wait)
    device = TotpDevice.objects.select_related("user").filter(user_id=user_id, confirmed_at__isnull=False).first()
    if device is None:
        return redirect("/login")
    try:
        with transaction.atomic():
            do_verify_totp(TotpDevice.objects.select_for_update().get(pk=device.pk), request.POST.get("code", ""))
    except ValidationFailed as exc:
        SECOND_FACTOR.failed(str(user_id), client)
        audit_sign_in(device.user.email, ok=False, user=device.user, reason="code")
        context["error"] = exc.message
        return render(request, "web/verify.html", context, status=400)
    SECOND_FACTOR.succeeded(str(user_id), client)
    request.session.pop(PENDING, None)
    return _finish(request, device.user, TOTP)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session_key = request.session.session_key
    logout(request)
    close_session_sockets(session_key)  # an open agent socket must not outlive its session
    return redirect("/login")

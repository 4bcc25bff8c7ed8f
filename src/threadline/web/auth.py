"""Sign-in: email and password, then a TOTP code when the agent turned two-factor sign-in on.

Between the two steps the session only holds the pending user id (for five minutes); the user is signed in
after the code. Failed attempts are counted per address and per client in the cache (RATE_LIMIT per
RATE_WINDOW seconds).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from threadline.core.errors import ValidationFailed
from threadline.realtime.auth import membership_for
from threadline.tenancy.models import User
from threadline.web.actions import do_verify_totp
from threadline.web.models import TotpDevice
from threadline.web.session import LANGUAGES

PENDING = "tl_pending_user"
PENDING_AT = "tl_pending_at"
PENDING_SECONDS = 300
RATE_LIMIT = 10
RATE_WINDOW = 900


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/app/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return "/app/"
    return target


def _throttled(*keys: str) -> bool:
    return any((cache.get(f"tl:login:{k}") or 0) >= RATE_LIMIT for k in keys)


def _count_failure(*keys: str) -> None:
    for key in keys:
        cache.add(f"tl:login:{key}", 0, RATE_WINDOW)
        try:
            cache.incr(f"tl:login:{key}")
        except ValueError:
            pass


def _finish(request: HttpRequest, user: User) -> HttpResponse:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    response = redirect(_next(request))
    if user.language in LANGUAGES:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
    return response


def _page_language(request: HttpRequest) -> None:
    translation.activate(translation.get_language_from_request(request))


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    _page_language(request)
    context = {"next": _next(request), "email": ""}
    if request.method == "GET":
        if membership_for(request.user, request.session) is not None:
            return redirect(_next(request))
        return render(request, "web/login.html", context)
    email = (request.POST.get("email") or "").strip().lower()
    context["email"] = email
    client = request.META.get("REMOTE_ADDR", "")
    if _throttled(f"email:{email}", f"ip:{client}"):
        context["error"] = _("Too many attempts. Wait a few minutes and try again.")
        return render(request, "web/login.html", context, status=429)
    user = authenticate(request, username=email, password=request.POST.get("password") or "")
    if user is None or membership_for(user, None) is None:
        _count_failure(f"email:{email}", f"ip:{client}")
        context["error"] = _("The email or password is not right.")
        return render(request, "web/login.html", context, status=400)
    if TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists():
        request.session.cycle_key()
        request.session[PENDING], request.session[PENDING_AT] = user.pk, time.time()
        return redirect(f"/login/verify?next={_next(request)}")
    return _finish(request, user)


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
    if _throttled(f"totp:{user_id}"):
        context["error"] = _("Too many attempts. Wait a few minutes and try again.")
        return render(request, "web/verify.html", context, status=429)
    device = TotpDevice.objects.select_related("user").filter(user_id=user_id, confirmed_at__isnull=False).first()
    if device is None:
        return redirect("/login")
    try:
        with transaction.atomic():
            do_verify_totp(TotpDevice.objects.select_for_update().get(pk=device.pk), request.POST.get("code", ""))
    except ValidationFailed as exc:
        _count_failure(f"totp:{user_id}")
        context["error"] = exc.message
        return render(request, "web/verify.html", context, status=400)
    request.session.pop(PENDING, None)
    return _finish(request, device.user)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/login")

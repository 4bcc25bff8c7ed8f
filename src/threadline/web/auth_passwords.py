"""The password pages of the sign-in flow: asking for a reset link, using it, and the new password an admin's
forced reset requires at sign-in.

`/login/reset` answers the same whether or not the address has an account (and mails in the background, so
the answer's timing says nothing either); requests are throttled per (address, client). `/login/reset/<secret>`
sets the new password and then continues the sign-in: an account with a second factor must still pass it.
Guessing link secrets is throttled per client, like the setup page.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from threadline.core import mail
from threadline.core.client_address import client_address
from threadline.core.errors import NotFound, ValidationFailed
from threadline.core.throttle import RESET_REQUEST, SETUP_LINK
from threadline.tenancy.mails import send_reset
from threadline.tenancy.models import User
from threadline.tenancy.passwords import (
    do_complete_reset,
    do_request_reset,
    do_set_required_password,
    find_reset_link,
)
from threadline.web.auth import (
    MUST_CHANGE,
    PENDING_SECONDS,
    _next,
    _page_language,
    continue_sign_in,
    finish_sign_in,
    too_many,
)

logger = logging.getLogger(__name__)

REQUEST_TEMPLATE = "web/password_reset_request.html"
SET_TEMPLATE = "web/password_set.html"
ANY_LINK = "reset-link"


def secret_url_page(response: HttpResponse) -> HttpResponse:
    """A page whose URL holds a secret passes it on in a Referer only to this server itself (`no-referrer` would
    also strip the Origin of the page's own form, which Django's CSRF check then refuses)."""
    response["Referrer-Policy"] = "same-origin"
    return response


def _mail_in_background(user: User, raw: str) -> None:
    def send() -> None:
        if not send_reset(user, raw):
            logger.warning("a password reset link for user %s could not be mailed (is THREADLINE_SYSTEM_MAIL_URL "
                           "set?)", user.pk)

    threading.Thread(target=send, name="reset-mail", daemon=True).start()


@never_cache
@require_http_methods(["GET", "POST"])
def reset_request_view(request: HttpRequest) -> HttpResponse:
    _page_language(request)
    context: dict[str, object] = {"email": "", "mail_configured": mail.configured()}
    if request.method == "GET":
        return render(request, REQUEST_TEMPLATE, context)
    email = (request.POST.get("email") or "").strip().lower()[:254]
    context["email"] = email
    client = client_address(request)
    wait = RESET_REQUEST.retry_after(email, client)
    if wait:
        return too_many(request, REQUEST_TEMPLATE, context, wait)
    RESET_REQUEST.failed(email, client)  # every request counts, whether or not the address exists
    with transaction.atomic():
        found = do_request_reset(email)
    if found is not None:
        _mail_in_background(*found)
    context["sent"] = True
    return render(request, REQUEST_TEMPLATE, context)


def _link_refused(request: HttpRequest, message: str, client: str, status: int = 404) -> HttpResponse:
    if status == 404:
        SETUP_LINK.failed(ANY_LINK, client)
    return secret_url_page(render(request, SET_TEMPLATE, {"invalid": message}, status=status))


@never_cache
@require_http_methods(["GET", "POST"])
def reset_view(request: HttpRequest, token: str) -> HttpResponse:
    _page_language(request)
    client = client_address(request)
    wait = SETUP_LINK.retry_after(ANY_LINK, client)
    if wait:
        response = too_many(request, SET_TEMPLATE, {"invalid": True}, wait)
        return secret_url_page(response)
    try:
        link = find_reset_link(token)
    except NotFound as exc:
        return _link_refused(request, exc.message, client)
    context = {"email": link.user.email, "purpose": "reset"}
    if request.method == "GET":
        return secret_url_page(render(request, SET_TEMPLATE, context))
    try:
        with transaction.atomic():
            user = do_complete_reset(token, request.POST.get("password", ""), request.POST.get("confirm", ""))
    except NotFound as exc:
        return _link_refused(request, exc.message, client)
    except ValidationFailed as exc:
        return secret_url_page(render(request, SET_TEMPLATE, {**context, "error": exc.message}, status=400))
    return continue_sign_in(request, user)


@never_cache
@require_http_methods(["GET", "POST"])
def new_password_view(request: HttpRequest) -> HttpResponse:
    """After a forced reset: the password (and second factor) were proved; a new password finishes the sign-in."""
    _page_language(request)
    state = request.session.get(MUST_CHANGE) or {}
    user = User.objects.filter(pk=state.get("user"), is_active=True).first()
    if user is None or time.time() - state.get("at", 0) > 2 * PENDING_SECONDS or not user.must_change_password:
        request.session.pop(MUST_CHANGE, None)
        return redirect("/login")
    context = {"email": user.email, "purpose": "forced", "next": _next(request)}
    if request.method == "GET":
        return render(request, SET_TEMPLATE, context)
    try:
        with transaction.atomic():
            do_set_required_password(user, request.POST.get("password", ""), request.POST.get("confirm", ""))
    except ValidationFailed as exc:
        return render(request, SET_TEMPLATE, {**context, "error": exc.message}, status=400)
    request.session.pop(MUST_CHANGE, None)
    return finish_sign_in(request, user, state["factor"])

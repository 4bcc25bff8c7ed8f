"""`/app/x/password`: the signed-in agent changes their password (from /app/settings).

The current password is required and throttled per (account, client); the new one passes Django's validators
(not like the account's own email or name). This session stays signed in; every other session and open agent
socket of the person ends.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from threadline.core.client_address import client_address
from threadline.core.errors import RateLimited, ValidationFailed
from threadline.core.throttle import PASSWORD_CHANGE
from threadline.tenancy.passwords import do_change_password
from threadline.web.session import agent_view


@require_POST
@agent_view
def change_password_view(request: HttpRequest) -> HttpResponse:
    user = request.agent.user  # type: ignore[attr-defined]
    client = client_address(request)
    wait = PASSWORD_CHANGE.retry_after(str(user.pk), client)
    if wait:
        raise RateLimited(_("Too many attempts. Wait a few minutes and try again."), retry_after=wait)
    try:
        with transaction.atomic():
            do_change_password(user, request.POST.get("current", ""), request.POST.get("password", ""),
                               request.POST.get("confirm", ""))
    except ValidationFailed as exc:
        if exc.code == "wrong_password":
            PASSWORD_CHANGE.failed(str(user.pk), client)
        messages.error(request, exc.message)
        return redirect("/app/settings#password")
    PASSWORD_CHANGE.succeeded(str(user.pk), client)
    update_session_auth_hash(request, user)  # this session goes on; the others ended with the old hash
    messages.success(request, _("Your password is changed. Your other sessions were signed out."))
    return redirect("/app/settings#password")

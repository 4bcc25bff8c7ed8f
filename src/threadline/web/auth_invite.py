"""`/invite/<secret>`: an invited person joins a workspace.

A new person chooses their name, password, language and time zone (both default to the browser's: the
language from Accept-Language, the time zone filled in by `invite.js`) and lands signed in, in the
workspace. A person who already has an account only accepts, then signs in as usual (with their second
factor): the invitation never changes their name or password. Guessing secrets is throttled per client.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from threadline.core.client_address import client_address
from threadline.core.errors import NotFound, ValidationFailed
from threadline.core.throttle import SETUP_LINK
from threadline.realtime.auth import SESSION_WORKSPACE
from threadline.tenancy.actions import do_set_default_workspace
from threadline.tenancy.invitations import do_accept_invitation, find_invitation, is_new_person
from threadline.web.auth import _page_language, continue_sign_in, too_many
from threadline.web.auth_passwords import secret_url_page

TEMPLATE = "web/invite.html"
ANY_LINK = "invite-link"


@never_cache
@require_http_methods(["GET", "POST"])
def invite_view(request: HttpRequest, token: str) -> HttpResponse:
    _page_language(request)
    client = client_address(request)
    wait = SETUP_LINK.retry_after(ANY_LINK, client)
    if wait:
        return secret_url_page(too_many(request, TEMPLATE, {"invalid": True}, wait))
    try:
        invitation = find_invitation(token)
    except NotFound as exc:
        SETUP_LINK.failed(ANY_LINK, client)
        return secret_url_page(render(request, TEMPLATE, {"invalid": exc.message}, status=404))
    membership = invitation.membership
    assert membership is not None
    user, workspace = membership.user, invitation.workspace
    new_person = is_new_person(user, workspace.pk)
    form = {"name": request.POST.get("name", user.name),
            "language": request.POST.get("language") or translation.get_language(),
            "time_zone": request.POST.get("time_zone") or workspace.time_zone}
    context = {"workspace": workspace, "email": user.email, "new_person": new_person, "form": form,
               "languages": settings.LANGUAGES, "time_zones": sorted(zoneinfo.available_timezones())}
    if request.method == "GET":
        return secret_url_page(render(request, TEMPLATE, context))
    try:
        with transaction.atomic():
            do_accept_invitation(token, name=form["name"], password=request.POST.get("password", ""),
                                 confirm=request.POST.get("confirm", ""), language=form["language"],
                                 time_zone=form["time_zone"])
            do_set_default_workspace(user, workspace)
    except NotFound as exc:
        return secret_url_page(render(request, TEMPLATE, {"invalid": exc.message}, status=404))
    except ValidationFailed as exc:
        return secret_url_page(render(request, TEMPLATE, {**context, "error": exc.message}, status=400))
    if not new_person:
        if request.user.is_authenticated and request.user.pk == user.pk:
            request.session[SESSION_WORKSPACE] = workspace.pk
            return redirect("/app/")
        return redirect("/login?next=/app/")
    user.refresh_from_db()
    response = continue_sign_in(request, user)  # where the workspace requires single sign-on, it says so
    request.session[SESSION_WORKSPACE] = workspace.pk
    return response

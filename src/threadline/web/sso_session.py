"""What the single sign-on flows share (OpenID Connect in `auth_sso.py`, SAML in `auth_saml.py`): the throttle,
the refusal page, the sign-in the browser started, and the session made once a provider vouched for someone.

The session is made the way the password sign-in makes it (`login`, the factor it passed, the audit entry),
and it opens the provider's workspace only. It counts as having passed a second factor when the provider
asserted one (`amr`, or SAML's authentication context) or the workspace trusts the provider to enforce it;
otherwise an account with an authenticator still types its code at `/login/verify`. Every refusal is
audited and counted by the throttle per (workspace, client address).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from threadline.audit.actions import record
from threadline.core.client_address import client_address
from threadline.core.errors import NotFound
from threadline.core.throttle import Throttle
from threadline.realtime.auth import SESSION_WORKSPACE
from threadline.sso.actions import Identity, do_sign_in_identity, record_sso_failure
from threadline.sso.errors import SsoFailed
from threadline.sso.models import IdentityProvider
from threadline.sso.queries import SSO_WORKSPACE, enabled_provider_for_slug
from threadline.tenancy.models import Membership
from threadline.tenancy.signin import SSO, SSO_MFA, has_second_factor, record_sign_in
from threadline.web.auth import PENDING, PENDING_AT, _next, _page_language, too_many
from threadline.web.session import LANGUAGES

SSO_THROTTLE = Throttle("sso")
PENDING_SSO = "tl_sso_pending"
PENDING_SSO_SECONDS = 600

USER_MESSAGES = {
    "not_a_member": lambda: _("Your account has no seat in this workspace. Ask its admin to invite you."),
    "unverified_email": lambda: _("The identity provider did not confirm your email address."),
    "domain": lambda: _("Your email address is not one this workspace accepts."),
    "deactivated": lambda: _("Your seat in this workspace is deactivated."),
    "operator_account": lambda: _("This account cannot sign in through a workspace."),
}


def public_url(path: str) -> str:
    return f"{settings.PUBLIC_URL.rstrip('/')}{path}"


def login_page(request: HttpRequest, error: str, *, status: int = 400, **extra: Any) -> HttpResponse:
    context = {"next": _next(request), "email": "", "error": error, **extra}
    return render(request, "web/login.html", context, status=status)


def throttled(request: HttpRequest, provider: IdentityProvider) -> HttpResponse | None:
    wait = SSO_THROTTLE.retry_after(provider.workspace.slug, client_address(request))
    return too_many(request, "web/login.html", {"next": _next(request), "email": ""}, wait) if wait else None


def no_sso(request: HttpRequest, who: str) -> HttpResponse:
    return login_page(request, _("No single sign-on is set up for %(who)s.") % {"who": who}, status=404)


def provider_or_refusal(request: HttpRequest, slug: str, kind: str | None = None
                        ) -> tuple[IdentityProvider | None, HttpResponse | None]:
    """The enabled provider of workspace `slug` (of `kind` when given), or the answer to give instead: no
    single sign-on there (404), or this client is throttled (429)."""
    _page_language(request)
    try:
        provider = enabled_provider_for_slug(slug)
    except NotFound:
        return None, no_sso(request, slug)
    if kind is not None and provider.kind != kind:
        return None, no_sso(request, slug)
    refused = throttled(request, provider)
    return (None, refused) if refused is not None else (provider, None)


def fail(request: HttpRequest, provider: IdentityProvider, failure: SsoFailed, *, email: str = "") -> HttpResponse:
    SSO_THROTTLE.failed(provider.workspace.slug, client_address(request))
    with transaction.atomic():
        record_sso_failure(provider, failure, email=email)
    message = USER_MESSAGES.get(failure.reason, lambda: _("Single sign-on did not work. Try again, or ask your "
                                                           "workspace's admin."))()
    return login_page(request, message, status=403 if failure.reason in USER_MESSAGES else 400)


def take_pending(pending: Any, provider: IdentityProvider) -> dict[str, Any]:
    """`pending`, the sign-in this browser started (already taken from where it was kept, so that it is used
    once), when it was with this provider and recent; SsoFailed otherwise."""
    if not isinstance(pending, dict) or pending.get("provider") != provider.pk:
        raise SsoFailed("state", "this browser started no sign-in with this provider")
    if time.time() - float(pending.get("at") or 0) > PENDING_SSO_SECONDS:
        raise SsoFailed("state", "the sign-in took too long")
    return pending


def complete(request: HttpRequest, provider: IdentityProvider, identity: Identity, target: str) -> HttpResponse:
    """Sign the person in as their seat in the provider's workspace (SsoFailed when there is none)."""
    with transaction.atomic():
        membership: Membership = do_sign_in_identity(provider, identity)
    user = membership.user
    SSO_THROTTLE.succeeded(provider.workspace.slug, client_address(request))
    mfa = identity.mfa or provider.trust_mfa
    if not mfa and has_second_factor(user):
        # the provider vouched for the person, not for a second factor: their authenticator still asks. A new,
        # empty session (whoever was signed in here is signed out), so the scope below survives to the end
        logout(request)
        request.session[PENDING], request.session[PENDING_AT] = user.pk, time.time()
        request.session[SSO_WORKSPACE] = membership.workspace_id
        request.session[SESSION_WORKSPACE] = membership.workspace_id
        return redirect(f"/login/verify?next={target}")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    record_sign_in(request.session, SSO_MFA if mfa else SSO)
    request.session[SSO_WORKSPACE] = request.session[SESSION_WORKSPACE] = membership.workspace_id
    with transaction.atomic():
        record("signin.succeeded", workspace_id=membership.workspace_id, target_type="user", target_id=user.pk,
               details={"email": user.email, "method": identity.method, "mfa": mfa}, actor=membership)
    response = redirect(target if target.startswith("/") and not target.startswith("//") else "/app/")
    if user.language in LANGUAGES:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
    return response

"""Single sign-on through a workspace's identity provider (threadline.sso): `/login/sso` finds the provider
from a work email or a workspace, `/login/sso/<slug>` sends the browser to it, and an OpenID Connect
provider's answer comes back to `/login/sso/<slug>/callback` (SAML: `auth_saml.py`). What both share, the
session made at the end included, is in `sso_session.py`.
"""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from threadline.sso import oidc
from threadline.sso.actions import Identity
from threadline.sso.errors import SsoFailed
from threadline.sso.models import IdentityProvider, Kind
from threadline.sso.queries import providers_for_domain
from threadline.web.auth import _next, _page_language
from threadline.web.auth_saml import saml_redirect
from threadline.web.sso_session import (
    PENDING_SSO,
    complete,
    fail,
    login_page,
    no_sso,
    provider_or_refusal,
    take_pending,
)


@never_cache
@require_GET
def find_view(request: HttpRequest) -> HttpResponse:
    """The sign-in page's single sign-on step: a work email (its domain) or a workspace's short name. It answers
    the sign-in page with a "Sign in with <provider>" link for each match, never a redirect: this step is a form,
    and the page's Content-Security-Policy (`form-action 'self'`) would stop a form's redirect to the provider."""
    _page_language(request)
    who = (request.GET.get("who") or "").strip().lower()
    providers: list[IdentityProvider] = []
    if "@" in who:
        providers = providers_for_domain(who.rsplit("@", 1)[1])
    elif who:
        providers = list(IdentityProvider.objects.filter(workspace__slug=who, enabled=True)
                         .select_related("workspace"))
    if not providers:
        return no_sso(request, who)
    return login_page(request, "", status=200, sso_choices=providers)


@never_cache
@require_GET
def start_view(request: HttpRequest, slug: str) -> HttpResponse:
    provider, refused = provider_or_refusal(request, slug)
    if provider is None:
        return refused
    try:
        if provider.kind == Kind.SAML:
            return saml_redirect(request, provider)
        url, pending = oidc.start(provider, oidc.redirect_uri(provider))
    except SsoFailed as failure:
        return fail(request, provider, failure)
    request.session[PENDING_SSO] = {"provider": provider.pk, "at": time.time(), "next": _next(request),
                                    "state": pending.state, "nonce": pending.nonce, "verifier": pending.verifier}
    return redirect(url)


@never_cache
@require_GET
def callback_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the OpenID Connect provider sends the browser back with a code."""
    provider, refused = provider_or_refusal(request, slug, Kind.OIDC)
    if provider is None:
        return refused
    email = ""
    try:
        pending = take_pending(request.session.pop(PENDING_SSO, None), provider)
        claims = oidc.finish(provider, oidc.redirect_uri(provider), oidc.Pending(
            state=pending["state"], nonce=pending["nonce"], verifier=pending["verifier"]),
            {k: request.GET.get(k, "") for k in ("state", "code", "error")})
        email = str(claims.get("email") or "")
        identity = Identity(subject=str(claims["sub"]), email=email,
                            email_verified=claims.get("email_verified") is True, name=str(claims.get("name") or ""),
                            mfa=oidc.asserts_mfa(claims), method=Kind.OIDC)
        return complete(request, provider, identity, pending.get("next") or "/app/")
    except SsoFailed as failure:
        return fail(request, provider, failure, email=email)

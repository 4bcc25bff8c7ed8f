"""SAML 2.0 sign-in (threadline.sso.saml): the AuthnRequest redirect, the assertion consumer service
`/login/sso/<slug>/acs` and our metadata `/login/sso/<slug>/metadata`.

The IdP answers with a cross-site POST, which browsers send without the `SameSite=Lax` session cookie; so the
sign-in this browser started (the AuthnRequest's ID) travels in a cookie of its own: signed, HttpOnly, ten
minutes, `SameSite=None; Secure` when THREADLINE_PUBLIC_URL is https. It is used once.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.signing import BadSignature
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from threadline.sso import saml
from threadline.sso.actions import Identity
from threadline.sso.errors import SsoFailed
from threadline.sso.models import IdentityProvider, Kind
from threadline.web.auth import _next
from threadline.web.sso_session import PENDING_SSO_SECONDS, complete, fail, provider_or_refusal, take_pending

COOKIE = "tl_sso_saml"
SALT = "threadline.sso.saml"


def saml_redirect(request: HttpRequest, provider: IdentityProvider) -> HttpResponse:
    """Send the browser to the IdP with our AuthnRequest (SsoFailed when the metadata is unusable)."""
    url, request_id = saml.start(provider)
    response = redirect(url)
    secure = settings.PUBLIC_URL.startswith("https://")
    pending = {"provider": provider.pk, "at": time.time(), "next": _next(request), "request_id": request_id}
    response.set_signed_cookie(COOKIE, json.dumps(pending), salt=SALT, max_age=PENDING_SSO_SECONDS, httponly=True,
                               secure=secure, samesite="None" if secure else "Lax", path="/login/sso/")
    return response


@csrf_exempt  # the IdP posts here from its own site; the signed assertion and InResponseTo are the proof
@never_cache
@require_POST
def acs_view(request: HttpRequest, slug: str) -> HttpResponse:
    provider, refused = provider_or_refusal(request, slug, Kind.SAML)
    if provider is None:
        return refused
    email = ""
    try:
        try:
            pending = json.loads(request.get_signed_cookie(COOKIE, salt=SALT, max_age=PENDING_SSO_SECONDS))
        except (KeyError, BadSignature, ValueError):
            pending = None
        pending = take_pending(pending, provider)
        assertion = saml.finish(provider, request.POST.get("SAMLResponse", ""), str(pending["request_id"]))
        email = assertion["email"]
        identity = Identity(subject=assertion["subject"], email=email, email_verified=False,
                            name=assertion["name"], mfa=assertion["mfa"], method=Kind.SAML)
        response = complete(request, provider, identity, pending.get("next") or "/app/")
    except SsoFailed as failure:
        response = fail(request, provider, failure, email=email)
    response.delete_cookie(COOKIE, path="/login/sso/")
    return response


@require_GET
def metadata_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Our SP metadata, for the IdP's administrator to import."""
    provider = IdentityProvider.objects.filter(workspace__slug=slug, kind=Kind.SAML).select_related("workspace").first()
    if provider is None:
        return HttpResponse(status=404)
    try:
        document = saml.sp_metadata(provider)
    except SsoFailed:
        return HttpResponse(status=503)
    return HttpResponse(document, content_type="application/samlmetadata+xml")

"""The "Sign-in and single sign-on" screen (/app/admin/security): the workspace's identity provider (OpenID
Connect or SAML 2.0), the addresses to give the provider (redirect URI, ACS and metadata URLs), a connection
test, who may come in (allowed domains, just-in-time agents and their role), whether the provider's sign-in
counts as a second factor, and whether single sign-on is required. The client secret is write-only. Writes
are the sso domain's actions (audited there)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from threadline.core.errors import ValidationFailed
from threadline.sso import oidc, saml
from threadline.sso.actions import do_delete_provider, do_save_provider
from threadline.sso.connection import check_connection
from threadline.sso.errors import SsoFailed
from threadline.sso.models import IdentityProvider, Kind
from threadline.sso.queries import access_provider
from threadline.tenancy.models import Role
from threadline.tenancy.permissions import Permission
from threadline.tenancy.signin import has_second_factor
from threadline.web.admin_forms import checked, screen, submit
from threadline.web.sso_session import public_url
from threadline.web.views_admin import admin_screen

URL = "/app/admin/security"
TEMPLATE = "web/admin/security.html"
TEXT_FIELDS = ("kind", "name", "issuer", "client_id", "idp_metadata_url", "idp_metadata_xml", "idp_entity_id",
               "allowed_domains", "jit_role")
FLAGS = ("enabled", "jit_enabled", "trust_mfa", "enforce")


def _form_of(provider: IdentityProvider | None) -> dict[str, Any]:
    if provider is None:
        return {"kind": Kind.OIDC, "enabled": True, "jit_role": Role.AGENT}
    form: dict[str, Any] = {f: getattr(provider, f) for f in TEXT_FIELDS + FLAGS}
    form["allowed_domains"] = ", ".join(provider.allowed_domains or [])
    return form


def _addresses(request: HttpRequest) -> dict[str, str]:
    slug = request.agent.workspace.slug  # type: ignore[attr-defined]
    probe = IdentityProvider(workspace=request.agent.workspace)  # type: ignore[attr-defined]
    return {"redirect_uri": oidc.redirect_uri(probe), **saml.sp_urls(probe), "sign_in": public_url(f"/login/sso/{slug}")}


def _page(request: HttpRequest, *, error: Exception | None = None, facts: dict[str, str] | None = None,
          status: int = 200) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    provider = access_provider(agent)
    form = request.POST if error is not None and request.path == URL else _form_of(provider)
    context = {"provider": provider, "form": form, "addresses": _addresses(request), "facts": facts,
               "secret_set": bool(provider and provider.secrets.get("client_secret")),
               "roles": Role.choices, "kinds": Kind.choices,
               "no_break_glass": bool(provider and provider.enforce and not has_second_factor(agent.user))}
    return screen(request, TEMPLATE, context, error=error, status=status)


def _changes(data: QueryDict) -> dict[str, Any]:
    changes: dict[str, Any] = {f: data.get(f, "") for f in TEXT_FIELDS}
    changes.update({f: checked(data, f) for f in FLAGS})
    return changes


@admin_screen(Permission.ADMIN_SECURITY)
def security_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    secret = request.POST.get("client_secret") or None  # empty: keep the stored one
    return submit(request, lambda: do_save_provider(request.agent, _changes(request.POST),  # type: ignore[attr-defined]
                                                    client_secret=secret),
                  _("Single sign-on settings saved."), URL, lambda exc: _page(request, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_SECURITY)
def test_view(request: HttpRequest) -> HttpResponse:
    """Reach the saved provider now and show what it publishes (or what is wrong)."""
    provider = access_provider(request.agent)  # type: ignore[attr-defined]
    if provider is None:
        return _page(request, error=ValidationFailed(_("Save the provider's settings first.")))
    try:
        facts = check_connection(provider)
    except SsoFailed as failure:
        message = _("The connection test failed: %(detail)s") % {"detail": failure.detail or failure.reason}
        return _page(request, error=ValidationFailed(message, code="sso_unreachable"))
    return _page(request, facts=facts)


@require_POST
@admin_screen(Permission.ADMIN_SECURITY)
def delete_view(request: HttpRequest) -> HttpResponse:
    return submit(request, lambda: do_delete_provider(request.agent),  # type: ignore[attr-defined]
                  _("Single sign-on removed; members sign in with their passwords."), URL,
                  lambda exc: _page(request, error=exc))

"""The "Sign-in and single sign-on" screen (/app/admin/security): who may use it, configuring OpenID Connect
with a write-only secret, the connection test against a real provider, another workspace's provider never
touched, and the audit trail."""

from __future__ import annotations

import pytest

from threadline.core import crypto
from threadline.sso.models import IdentityProvider
from threadline.sso.tests.conftest import configure
from threadline.tenancy.signin import SESSION_FACTOR, TOTP
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in

URL = "/app/admin/security"


def oidc_form(idp, **extra):
    return {"kind": "oidc", "name": "Acme Okta", "enabled": "1", "issuer": idp.base, "client_id": idp.client_id,
            "client_secret": idp.client_secret, "allowed_domains": "acme.test, Example.org", "jit_enabled": "1",
            "jit_role": "light_agent", **extra}


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("agent", 403), ("light", 403)])
def test_only_roles_with_the_security_settings_may_open_or_change_it(client, admin, idp, role, status):
    member = members(admin)[role]
    signed_in(client, member)
    assert client.get(URL).status_code == status
    answer = client.post(URL, oidc_form(idp))
    assert answer.status_code == (302 if status == 200 else 403)
    assert IdentityProvider.objects.filter(workspace=admin.workspace).exists() == (status == 200)
    for action in ("test", "delete"):
        assert client.post(f"{URL}/{action}").status_code in ((200, 302) if status == 200 else (403,))


def test_an_admin_sets_up_openid_connect_and_the_secret_is_write_only(client, admin, idp):
    signed_in(client, admin)
    page = client.get(URL).content.decode()
    assert f"http://testserver/login/sso/{admin.workspace.slug}/callback" in page
    assert f"http://testserver/login/sso/{admin.workspace.slug}/metadata" in page
    answer = client.post(URL, oidc_form(idp))
    assert answer.status_code == 302 and answer["Location"] == URL
    provider = IdentityProvider.objects.get(workspace=admin.workspace)
    assert (provider.kind, provider.issuer, provider.client_id, provider.jit_role) == (
        "oidc", idp.base, "threadline", "light_agent")
    assert provider.allowed_domains == ["acme.test", "example.org"] and provider.jit_enabled
    assert idp.client_secret not in provider.secrets_encrypted
    assert crypto.decrypt_json(provider.secrets_encrypted)["client_secret"] == idp.client_secret
    page = client.get(URL).content.decode()
    assert idp.client_secret not in page and "Single sign-on settings saved." in page
    # saving again without a secret keeps it
    assert client.post(URL, oidc_form(idp, client_secret="", name="Okta")).status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Okta" and provider.secrets["client_secret"] == idp.client_secret
    entry, = audited(admin.workspace_id, "sso.created")
    assert entry.details["client_secret"] == "[hidden]" and entry.actor_membership_id == admin.pk
    assert audited(admin.workspace_id, "sso.updated")[0].details == {"name": "Okta"}


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("issuer", "", "Enter the provider&#x27;s issuer URL."),
    ("client_id", "", "Enter the client ID"),
    ("name", " ", "Give the provider a name"),
    ("allowed_domains", "not a domain", "is not an email domain"),
    ("jit_role", "owner", "Unknown role"),
    ("kind", "ldap", "Choose OpenID Connect or SAML 2.0."),
])
def test_invalid_settings_are_refused_with_the_reason(client, admin, idp, field, value, reason):
    signed_in(client, admin)
    answer = client.post(URL, oidc_form(idp, **{field: value}))
    assert answer.status_code == 400 and reason in answer.content.decode()
    assert not IdentityProvider.objects.exists()


def test_a_saml_provider_needs_metadata(client, admin):
    signed_in(client, admin)
    answer = client.post(URL, {"kind": "saml", "name": "ADFS", "enabled": "1", "jit_role": "agent"})
    assert answer.status_code == 400 and "metadata" in answer.content.decode()


def test_the_connection_test_reaches_the_real_provider(client, admin, idp):
    configure(admin, idp)
    signed_in(client, admin)
    answer = client.post(f"{URL}/test")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert f"{idp.base}/authorize" in html and "Signing keys published" in html


def test_the_connection_test_says_what_is_wrong(client, admin, idp):
    configure(admin, idp)
    IdentityProvider.objects.update(issuer=idp.base + "/elsewhere")
    signed_in(client, admin)
    answer = client.post(f"{URL}/test")
    assert answer.status_code == 400 and "The connection test failed" in answer.content.decode()


def test_a_private_issuer_is_refused_when_private_addresses_are_not_allowed(client, admin, idp, settings):
    settings.THREADLINE = {**settings.THREADLINE, "OUTBOUND_ALLOW_PRIVATE": False}
    signed_in(client, admin)
    answer = client.post(URL, oidc_form(idp, issuer="https://127.0.0.1:9/"))
    assert answer.status_code == 400 and "private or local network" in answer.content.decode()
    assert client.post(URL, oidc_form(idp)).status_code == 400  # and plain http is refused outright


def test_another_workspace_never_sees_or_changes_this_provider(client, admin, idp):
    configure(admin, idp, enforce=True)
    other = factories.make_workspace(name="Other Co")
    signed_in(client, other)
    page = client.get(URL).content.decode()
    assert idp.base not in page and "Acme Okta" not in page
    assert client.post(f"{URL}/delete").status_code == 302
    assert IdentityProvider.objects.get(workspace=admin.workspace).enforce
    assert client.post(URL, oidc_form(idp, name="Theirs")).status_code == 302
    assert IdentityProvider.objects.get(workspace=admin.workspace).name == "Acme Okta"
    assert IdentityProvider.objects.get(workspace=other.workspace).name == "Theirs"


def test_an_admin_removes_single_sign_on(client, admin, idp):
    configure(admin, idp, enforce=True)
    signed_in(client, admin)
    assert client.get(URL).status_code == 302  # a session without the second factor: not in this workspace
    session = client.session
    session[SESSION_FACTOR] = TOTP  # as after the break-glass sign-in (password and code)
    session.save()
    assert client.get(URL).status_code == 200
    assert client.post(f"{URL}/delete").status_code == 302
    assert not IdentityProvider.objects.exists()
    assert audited(admin.workspace_id, "sso.deleted")

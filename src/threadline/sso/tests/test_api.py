"""/api/v1/sso: the identity provider settings through the API, for roles with the security settings only,
one workspace at a time, the client secret never returned."""

from __future__ import annotations

import pytest

from threadline.sso.models import IdentityProvider
from threadline.sso.tests.conftest import configure
from threadline.tenancy.models import Role
from threadline.testing import factories

URL = "/api/v1/sso"


def bearer(membership):
    return {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(membership)}"}


def body(idp, **extra):
    return {"kind": "oidc", "name": "Acme Okta", "issuer": idp.base, "client_id": idp.client_id,
            "client_secret": idp.client_secret, "allowed_domains": ["acme.test"], "jit_enabled": True,
            "jit_role": "light_agent", **extra}


def test_an_admin_sets_up_reads_tests_and_removes_the_provider(client, admin, idp):
    auth = bearer(admin)
    assert client.get(URL, **auth).json()["code"] == "not_found"
    answer = client.put(URL, body(idp), content_type="application/json", **auth)
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["client_secret_set"] is True and "client_secret" not in data
    assert idp.client_secret not in answer.content.decode()
    assert data["redirect_uri"] == f"http://testserver/login/sso/{admin.workspace.slug}/callback"
    assert data["acs_url"] == f"http://testserver/login/sso/{admin.workspace.slug}/acs"
    assert client.get(URL, **auth).json()["jit_role"] == "light_agent"
    tested = client.post(f"{URL}/test", **auth)
    assert tested.status_code == 200 and tested.json()["sso_url"] == f"{idp.base}/authorize"
    assert client.delete(URL, **auth).status_code == 204
    assert not IdentityProvider.objects.exists()


@pytest.mark.parametrize("role", [Role.AGENT, Role.LIGHT_AGENT])
def test_other_roles_are_refused(client, admin, idp, role):
    configure(admin, idp)
    auth = bearer(factories.make_agent(admin, f"{role}@acme.test", role=role))
    assert client.get(URL, **auth).status_code == 403
    assert client.put(URL, body(idp, name="Mine"), content_type="application/json", **auth).status_code == 403
    assert client.post(f"{URL}/test", **auth).status_code == 403
    assert client.delete(URL, **auth).status_code == 403
    assert IdentityProvider.objects.get().name == "Acme Okta"


def test_another_workspace_only_ever_sees_its_own(client, admin, idp):
    configure(admin, idp)
    auth = bearer(factories.make_workspace(name="Other Co"))
    assert client.get(URL, **auth).status_code == 404
    assert client.delete(URL, **auth).status_code == 404
    assert client.post(f"{URL}/test", **auth).status_code == 404
    assert IdentityProvider.objects.get(workspace=admin.workspace).name == "Acme Okta"


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"kind": "ldap"}, 400, "invalid"),
    ({"allowed_domains": ["not a domain"]}, 400, "invalid"),
    ({"enforce": True}, 400, "invalid"),  # the admin has no authenticator yet
    ({"unknown": 1}, 422, None),
])
def test_bad_input_answers_a_clear_error(client, admin, idp, change, status, code):
    answer = client.put(URL, body(idp, **change), content_type="application/json", **bearer(admin))
    assert answer.status_code == status and "message" in answer.json()
    if code:
        assert answer.json()["code"] == code
    assert not IdentityProvider.objects.exists()


def test_an_unreachable_provider_fails_the_test_with_a_reason(client, admin, idp):
    configure(admin, idp)
    IdentityProvider.objects.update(issuer="http://127.0.0.1:9")
    answer = client.post(f"{URL}/test", **bearer(admin))
    assert answer.status_code == 400 and answer.json()["code"] == "sso_unreachable"

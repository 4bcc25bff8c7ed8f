"""OpenID Connect sign-in against a real provider (pyop over HTTP): just-in-time agents, linking by verified
email, the ID token checks (audience, issuer, expiry, nonce, signature), replays, second factors, throttling
and the audit trail."""

from __future__ import annotations

import time

import httpx
import pytest

from threadline.audit.models import AuditEntry
from threadline.sso.models import ExternalAccount
from threadline.sso.tests.conftest import configure, enrol_totp, sso_sign_in
from threadline.sso.tests.oidc_idp import query_of
from threadline.tenancy.models import Membership, Role
from threadline.tenancy.signin import SESSION_FACTOR, SSO, SSO_MFA
from threadline.testing import factories


def test_a_new_person_is_created_just_in_time_with_the_chosen_role(client, admin, idp):
    configure(admin, idp, jit_enabled=True, jit_role=Role.LIGHT_AGENT)
    response = sso_sign_in(client, admin.workspace.slug, idp, next_url="/app/?view=mine")
    assert response.status_code == 302 and response["Location"] == "/app/?view=mine"
    seat = Membership.objects.get(workspace=admin.workspace, user__email="dana@acme.test")
    assert seat.role == Role.LIGHT_AGENT and seat.user.name == "Dana Levi"
    assert not seat.user.has_usable_password() and not seat.user.is_staff
    assert ExternalAccount.objects.get(provider__workspace=admin.workspace).subject == "dana-0001"
    assert client.get("/app/").status_code == 200
    assert client.session[SESSION_FACTOR] == SSO
    entry = AuditEntry.objects.get(workspace=admin.workspace, action="signin.succeeded")
    assert entry.details == {"email": "dana@acme.test", "method": "oidc", "mfa": False}
    assert AuditEntry.objects.filter(workspace=admin.workspace, action="sso.agent_created").exists()
    assert idp.token_requests == 1


def test_without_just_in_time_creation_a_stranger_is_refused(client, admin, idp):
    configure(admin, idp)
    response = sso_sign_in(client, admin.workspace.slug, idp)
    assert response.status_code == 403
    assert b"no seat in this workspace" in response.content
    assert not Membership.objects.filter(user__email="dana@acme.test").exists()
    assert client.get("/app/").status_code == 302
    failure = AuditEntry.objects.get(workspace=admin.workspace, action="signin.failed")
    assert failure.details["reason"] == "not_a_member" and failure.details["method"] == "oidc"


def test_an_existing_agent_is_linked_by_verified_email_then_by_subject(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    configure(admin, idp)
    assert sso_sign_in(client, admin.workspace.slug, idp).status_code == 302
    assert client.get("/app/").context["agent"].pk == agent.pk
    assert ExternalAccount.objects.get(subject="dana-0001").user_id == agent.user_id
    # the provider changes the address later: the subject still names the same person
    idp.users["dana"].update(email="dana.levi@acme.test", email_verified=False)
    client.post("/logout")
    assert sso_sign_in(client, admin.workspace.slug, idp).status_code == 302
    assert client.get("/app/").context["agent"].pk == agent.pk


def test_an_unverified_email_never_links_unless_its_domain_is_allowed(client, admin, idp):
    factories.make_agent(admin, "dana@acme.test")
    idp.users["dana"]["email_verified"] = False
    configure(admin, idp)
    refused = sso_sign_in(client, admin.workspace.slug, idp)
    assert refused.status_code == 403 and b"did not confirm your email" in refused.content
    assert not ExternalAccount.objects.exists()
    assert client.get("/app/").status_code == 302
    configure(admin, idp, allowed_domains="acme.test")
    assert sso_sign_in(client, admin.workspace.slug, idp).status_code == 302
    assert client.get("/app/").status_code == 200


def test_an_address_outside_the_allowed_domains_is_refused(client, admin, idp):
    configure(admin, idp, jit_enabled=True, allowed_domains=["example.org"])
    response = sso_sign_in(client, admin.workspace.slug, idp)
    assert response.status_code == 403
    assert not Membership.objects.filter(user__email="dana@acme.test").exists()


@pytest.mark.parametrize(("tamper", "claim"), [
    ({"aud": ["another-client"]}, "aud"),
    ({"iss": "https://evil.example"}, "iss"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "exp"),
    ({"nonce": "not-the-nonce"}, "nonce"),
])
def test_an_id_token_with_a_wrong_claim_is_refused(client, admin, idp, tamper, claim):
    configure(admin, idp, jit_enabled=True)
    idp.tamper.update(tamper)
    response = sso_sign_in(client, admin.workspace.slug, idp)
    assert response.status_code == 400
    assert not Membership.objects.filter(user__email="dana@acme.test").exists()
    assert client.get("/app/").status_code == 302
    failure = AuditEntry.objects.get(workspace=admin.workspace, action="signin.failed")
    assert failure.details["reason"] == "id_token" and claim in failure.details["detail"]


def test_an_id_token_signed_with_a_key_the_provider_never_published_is_refused(client, admin, idp):
    configure(admin, idp, jit_enabled=True)
    idp.sign_with_rogue_key()
    assert sso_sign_in(client, admin.workspace.slug, idp).status_code == 400
    assert not Membership.objects.filter(user__email="dana@acme.test").exists()


def test_a_callback_is_good_once_and_only_in_the_browser_that_started_it(client, admin, idp, django_app=None):
    configure(admin, idp, jit_enabled=True)
    idp.login_as = "dana"
    start = client.get(f"/login/sso/{admin.workspace.slug}")
    back = httpx.get(start["Location"], follow_redirects=False).headers["location"]
    path = back.split("testserver", 1)[1]
    from django.test import Client

    stranger = Client()
    assert stranger.get(path).status_code == 400  # another browser: no sign-in was started there
    assert stranger.get("/app/").status_code == 302
    assert client.get(path).status_code == 302
    client.post("/logout")
    assert client.get(path).status_code == 400  # the same answer again: the sign-in it belonged to is over


def test_a_forged_state_is_refused(client, admin, idp):
    configure(admin, idp, jit_enabled=True)
    idp.login_as = "dana"
    start = client.get(f"/login/sso/{admin.workspace.slug}")
    code = query_of(httpx.get(start["Location"], follow_redirects=False).headers["location"])["code"]
    response = client.get(f"/login/sso/{admin.workspace.slug}/callback?code={code}&state=forged")
    assert response.status_code == 400
    assert idp.token_requests == 0  # refused before the code was even spent


def test_a_second_factor_asserted_by_the_provider_counts(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    enrol_totp(agent)
    configure(admin, idp)
    idp.amr = ["pwd", "otp"]
    assert sso_sign_in(client, admin.workspace.slug, idp)["Location"] == "/app/"
    assert client.session[SESSION_FACTOR] == SSO_MFA
    assert client.get("/app/").status_code == 200


def test_without_an_asserted_second_factor_the_authenticator_still_asks(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    enrol_totp(agent)
    configure(admin, idp)
    idp.amr = ["pwd"]
    response = sso_sign_in(client, admin.workspace.slug, idp)
    assert response["Location"].startswith("/login/verify")
    assert client.get("/app/").status_code == 302


def test_a_provider_trusted_to_enforce_a_second_factor_counts_as_one(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    enrol_totp(agent)
    configure(admin, idp, trust_mfa=True)
    assert sso_sign_in(client, admin.workspace.slug, idp)["Location"] == "/app/"
    assert client.get("/app/").status_code == 200


def test_a_deactivated_seat_is_refused(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    Membership.objects.filter(pk=agent.pk).update(is_active=False)
    configure(admin, idp, jit_enabled=True)
    assert sso_sign_in(client, admin.workspace.slug, idp).status_code == 403
    assert client.get("/app/").status_code == 302


def test_repeated_failures_are_throttled(client, admin, idp):
    configure(admin, idp)
    for _ in range(5):
        assert sso_sign_in(client, admin.workspace.slug, idp).status_code == 403
    assert client.get(f"/login/sso/{admin.workspace.slug}").status_code == 429


def test_an_unknown_workspace_or_a_disabled_provider_has_no_single_sign_on(client, admin, idp):
    assert client.get("/login/sso/nowhere").status_code == 404
    configure(admin, idp, enabled=False)
    assert client.get(f"/login/sso/{admin.workspace.slug}").status_code == 404


def test_the_sign_in_page_finds_the_provider_from_a_work_email(client, admin, idp):
    configure(admin, idp, allowed_domains=["acme.test"])
    found = client.get("/login/sso", {"who": "someone@ACME.test", "next": "/app/"})
    link = f'href="/login/sso/{admin.workspace.slug}?next=/app/"'
    assert found.status_code == 200 and link in found.content.decode() and "Acme Okta" in found.content.decode()
    assert link in client.get("/login/sso", {"who": admin.workspace.slug, "next": "/app/"}).content.decode()
    assert client.get("/login/sso", {"who": "someone@other.test"}).status_code == 404
    assert "Single sign-on" in client.get("/login").content.decode()

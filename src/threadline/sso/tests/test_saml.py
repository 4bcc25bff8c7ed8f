"""SAML 2.0 sign-in against a real IdP (pysaml2's Server with xmlsec1, over HTTP): just-in-time agents, the
signature, audience, recipient, lifetime and InResponseTo checks, replays, and the authentication context
as a second factor."""

from __future__ import annotations

import datetime as dt
import shutil

import httpx
import pytest
import time_machine
from django.db import transaction
from django.test import Client

from threadline.audit.models import AuditEntry
from threadline.sso.actions import do_save_provider
from threadline.sso.models import ExternalAccount, UsedAssertion
from threadline.sso.tests.conftest import enrol_totp
from threadline.sso.tests.oidc_idp import running
from threadline.sso.tests.saml_idp import MFA_CONTEXT, SamlIdp, posted_form
from threadline.tenancy.models import Membership, Role
from threadline.tenancy.signin import SESSION_FACTOR, SSO, SSO_MFA
from threadline.testing import factories

pytestmark = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="needs the xmlsec1 program (.ci/system-deps)")

DANA = {"sub": "dana-saml-1", "mail": ["dana@acme.test"], "displayName": ["Dana Levi"]}


@pytest.fixture
def idp(tmp_path):
    with running(SamlIdp(tmp_path, users={"dana": dict(DANA)})) as idp:
        yield idp


def configure(admin, idp, *, by_url=False, **settings):
    fields = {"kind": "saml", "name": "Acme ADFS", "allowed_domains": ["acme.test"], **settings}
    fields.update({"idp_metadata_url": f"{idp.base}/metadata"} if by_url else {"idp_metadata_xml": idp.metadata})
    with transaction.atomic():
        provider = do_save_provider(admin, fields)
    idp.trust_sp(Client().get(f"/login/sso/{admin.workspace.slug}/metadata").content.decode())
    return provider


def idp_answer(client, slug, idp, who="dana"):
    """Our redirect to the IdP, and the form the IdP hands the browser to post back."""
    idp.login_as = who
    start = client.get(f"/login/sso/{slug}")
    assert start.status_code == 302, start.content
    assert start["Location"].startswith(f"{idp.base}/sso?SAMLRequest=")
    page = httpx.get(start["Location"])
    assert page.status_code == 200, page.text
    return posted_form(page.text)


def post_back(client, action, fields):
    assert action == f"http://testserver{action.split('testserver', 1)[1]}"
    return client.post(action.split("testserver", 1)[1], fields)


def test_metadata_names_our_entity_and_assertion_consumer_service(client, admin, idp):
    configure(admin, idp)
    metadata = client.get(f"/login/sso/{admin.workspace.slug}/metadata")
    assert metadata.status_code == 200 and metadata["Content-Type"] == "application/samlmetadata+xml"
    text = metadata.content.decode()
    assert f'entityID="http://testserver/login/sso/{admin.workspace.slug}/metadata"' in text
    assert f'Location="http://testserver/login/sso/{admin.workspace.slug}/acs"' in text
    assert client.get("/login/sso/nowhere/metadata").status_code == 404


def test_a_new_person_is_created_just_in_time(client, admin, idp):
    configure(admin, idp, jit_enabled=True, jit_role=Role.AGENT, by_url=True)
    action, fields = idp_answer(client, admin.workspace.slug, idp)
    response = post_back(client, action, fields)
    assert response.status_code == 302 and response["Location"] == "/app/", response.content
    seat = Membership.objects.get(workspace=admin.workspace, user__email="dana@acme.test")
    assert seat.role == Role.AGENT and seat.user.name == "Dana Levi"
    assert ExternalAccount.objects.get().subject == "dana-saml-1"
    assert client.get("/app/").status_code == 200
    assert client.session[SESSION_FACTOR] == SSO
    entry = AuditEntry.objects.get(workspace=admin.workspace, action="signin.succeeded")
    assert entry.details == {"email": "dana@acme.test", "method": "saml", "mfa": False}


def test_an_existing_agent_is_linked_only_within_the_allowed_domains(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    configure(admin, idp, allowed_domains=[])  # SAML has no "verified": without allowed domains, no linking
    assert post_back(client, *idp_answer(client, admin.workspace.slug, idp)).status_code == 403
    configure(admin, idp, allowed_domains=["acme.test"])
    assert post_back(client, *idp_answer(client, admin.workspace.slug, idp)).status_code == 302
    assert client.get("/app/").context["agent"].pk == agent.pk


@pytest.mark.parametrize(("knob", "value", "why"), [
    ("sign", False, "Neither the response nor the assertions are signed"),
    ("audience", "https://another-service.example/metadata", "AudienceRestrictions conditions not satisfied"),
    ("destination", "http://testserver/login/sso/another/acs", "not addressed to us"),
    ("in_response_to", "id-not-ours", "Unsolicited response"),
])
def test_a_response_failing_a_check_is_refused(client, admin, idp, knob, value, why):
    configure(admin, idp, jit_enabled=True)
    setattr(idp, knob, value)
    action, fields = idp_answer(client, admin.workspace.slug, idp)
    response = client.post(f"/login/sso/{admin.workspace.slug}/acs", fields)
    assert response.status_code == 400
    assert not Membership.objects.filter(user__email="dana@acme.test").exists()
    assert client.get("/app/").status_code == 302
    failure = AuditEntry.objects.get(workspace=admin.workspace, action="signin.failed")
    assert failure.details["reason"] == "assertion" and failure.details["method"] == "saml"
    assert why in failure.details["detail"]


def test_an_expired_assertion_is_refused(client, admin, idp):
    configure(admin, idp, jit_enabled=True)
    action, fields = idp_answer(client, admin.workspace.slug, idp)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=7)):
        assert post_back(client, action, fields).status_code == 400
    assert not Membership.objects.filter(user__email="dana@acme.test").exists()
    failure = AuditEntry.objects.get(workspace=admin.workspace, action="signin.failed")
    assert "ResponseLifetimeExceed" in failure.details["detail"]


def test_a_captured_response_cannot_be_replayed_even_with_the_cookie(client, admin, idp):
    configure(admin, idp, jit_enabled=True)
    action, fields = idp_answer(client, admin.workspace.slug, idp)
    pending_cookie = client.cookies["tl_sso_saml"].value
    assert post_back(client, action, fields).status_code == 302
    assert UsedAssertion.objects.count() == 1
    attacker = Client()
    attacker.cookies["tl_sso_saml"] = pending_cookie
    attacker.cookies["tl_sso_saml"]["path"] = "/login/sso/"
    replay = post_back(attacker, action, fields)
    assert replay.status_code == 400
    assert attacker.get("/app/").status_code == 302
    assert AuditEntry.objects.get(workspace=admin.workspace, action="signin.failed").details["reason"] == "replay"


def test_an_unsolicited_response_is_refused(client, admin, idp):
    configure(admin, idp, jit_enabled=True)
    action, fields = idp_answer(client, admin.workspace.slug, idp)
    assert post_back(Client(), action, fields).status_code == 400  # no sign-in started in that browser


def test_a_multi_factor_authentication_context_counts_as_the_second_factor(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    enrol_totp(agent)
    configure(admin, idp)
    assert post_back(client, *idp_answer(client, admin.workspace.slug, idp))["Location"].startswith("/login/verify")
    idp.context = MFA_CONTEXT
    assert post_back(client, *idp_answer(client, admin.workspace.slug, idp))["Location"] == "/app/"
    assert client.session[SESSION_FACTOR] == SSO_MFA
    assert client.get("/app/").status_code == 200

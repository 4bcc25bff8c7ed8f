"""Requiring single sign-on: password sessions refused for the workspace's members (except the break-glass
path: a security admin with their second factor), people in several workspaces, and two workspaces with two
providers that never cross."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import time_machine
from django.db import transaction

from threadline.core.errors import ValidationFailed
from threadline.sso.actions import do_save_provider
from threadline.sso.models import ExternalAccount
from threadline.sso.tests.conftest import configure, enrol_totp, sso_sign_in, start_idp
from threadline.tenancy.actions import do_add_agent
from threadline.tenancy.models import Membership, Role
from threadline.testing import factories
from threadline.testing.factories import PASSWORD


def password_sign_in(client, email):
    return client.post("/login", {"email": email, "password": PASSWORD, "next": "/app/"})


def set_password(membership: Membership) -> None:
    membership.user.set_password(PASSWORD)
    membership.user.save()


@pytest.fixture
def other(db):
    return factories.make_workspace(name="Other Co")


@pytest.fixture
def other_idp(other):
    yield from start_idp(other.workspace.slug)


def test_a_member_of_an_enforcing_workspace_cannot_use_a_password(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    set_password(agent)
    assert password_sign_in(client, "dana@acme.test").status_code == 302  # before: the password works
    client.post("/logout")
    configure(admin, idp, enforce=True)
    refused = password_sign_in(client, "dana@acme.test")
    assert refused.status_code == 403 and b"requires single sign-on" in refused.content
    assert client.get("/app/").status_code == 302
    assert sso_sign_in(client, admin.workspace.slug, idp).status_code == 302
    assert client.get("/app/").status_code == 200


def test_a_session_from_before_enforcement_stops_opening_the_workspace(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    set_password(agent)
    password_sign_in(client, "dana@acme.test")
    assert client.get("/app/").status_code == 200
    configure(admin, idp, enforce=True)
    assert client.get("/app/").status_code == 302


def test_requiring_single_sign_on_needs_the_admins_own_second_factor(admin, idp):
    fields = {"kind": "oidc", "name": "Okta", "issuer": idp.base, "client_id": idp.client_id, "enforce": True}
    with pytest.raises(ValidationFailed, match="two-factor sign-in"), transaction.atomic():
        do_save_provider(admin, fields, client_secret="x")
    enrol_totp(admin)
    with transaction.atomic():
        assert do_save_provider(admin, fields, client_secret="x").enforce


def test_break_glass_a_security_admin_with_a_second_factor_may_use_the_password(client, admin, idp):
    other_admin = factories.make_agent(admin, "second-admin@acme.test", role=Role.ADMIN)
    set_password(other_admin)
    totp = enrol_totp(admin)
    configure(admin, idp, enforce=True)
    assert password_sign_in(client, "second-admin@acme.test").status_code == 403  # no second factor: refused
    step = password_sign_in(client, admin.user.email)
    assert step.status_code == 302 and step["Location"].startswith("/login/verify")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31), tick=False):
        done = client.post("/login/verify", {"code": totp.now(), "next": "/app/"})
    assert done.status_code == 302 and done["Location"] == "/app/"
    assert client.get("/app/").status_code == 200


def test_an_agent_with_a_second_factor_gets_no_break_glass(client, admin, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    set_password(agent)
    enrol_totp(agent)
    configure(admin, idp, enforce=True)
    assert password_sign_in(client, "dana@acme.test").status_code == 403


def test_a_person_in_two_workspaces_keeps_their_password_for_the_other_one(client, admin, other, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    set_password(agent)
    do_add_agent(other.workspace, "dana@acme.test")
    configure(admin, idp, enforce=True)
    assert password_sign_in(client, "dana@acme.test").status_code == 302
    assert client.get("/app/").context["agent"].workspace_id == other.workspace_id
    client.post("/app/x/workspace", {"workspace": admin.workspace_id})  # trying to switch into the enforcing one
    assert client.get("/app/").context["agent"].workspace_id == other.workspace_id


def test_a_single_sign_on_session_opens_only_its_own_workspace(client, admin, other, idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    do_add_agent(other.workspace, "dana@acme.test")
    configure(admin, idp)
    assert sso_sign_in(client, admin.workspace.slug, idp).status_code == 302
    assert client.get("/app/").context["agent"].pk == agent.pk
    client.post("/app/x/workspace", {"workspace": other.workspace_id})
    assert client.get("/app/").context["agent"].pk == agent.pk


def test_two_workspaces_with_two_providers_never_cross(client, admin, other, idp, other_idp):
    configure(admin, idp, jit_enabled=True)
    configure(other, other_idp, name="Other IdP")
    # A's provider vouches for a person who has a seat only in the other workspace: no seat is made in A
    factories.make_agent(other, "erin@other.test")
    idp.users["erin"] = {"sub": "erin-1", "email": "erin@other.test", "email_verified": True}
    assert sso_sign_in(client, admin.workspace.slug, idp, "erin").status_code == 403
    assert not Membership.objects.filter(workspace=admin.workspace, user__email="erin@other.test").exists()
    # the other provider's answer is refused at A's callback (another client, another state)
    other_idp.login_as = "dana"
    client.get(f"/login/sso/{admin.workspace.slug}")
    other_start = httpx.get(f"{other_idp.base}/authorize", params={
        "response_type": "code", "client_id": other_idp.client_id, "scope": "openid",
        "redirect_uri": f"http://testserver/login/sso/{other.workspace.slug}/callback", "state": "x", "nonce": "n"},
        follow_redirects=False)
    code = httpx.URL(other_start.headers["location"]).params["code"]
    assert client.get(f"/login/sso/{admin.workspace.slug}/callback?code={code}&state=x").status_code == 400
    assert client.get("/app/").status_code == 302
    assert not ExternalAccount.objects.exists()


def test_a_seat_created_just_in_time_has_the_role_chosen_by_its_workspace(client, admin, other, idp, other_idp):
    configure(admin, idp, jit_enabled=True, jit_role=Role.ADMIN)
    configure(other, other_idp, jit_enabled=True, jit_role=Role.LIGHT_AGENT)
    other_idp.users["dana"]["email"] = "dana@other.test"
    other_idp.users["dana"]["sub"] = "dana-at-other"
    assert sso_sign_in(client, other.workspace.slug, other_idp).status_code == 302
    assert Membership.objects.get(user__email="dana@other.test").role == Role.LIGHT_AGENT
    assert not Membership.objects.filter(workspace=admin.workspace, user__email="dana@other.test").exists()


def test_a_second_factor_after_single_sign_on_keeps_the_session_to_the_providers_workspace(client, admin, other,
                                                                                           idp):
    agent = factories.make_agent(admin, "dana@acme.test")
    do_add_agent(other.workspace, "dana@acme.test")
    totp = enrol_totp(agent)
    configure(admin, idp)
    assert password_sign_in(client, other.user.email)["Location"] == "/app/"  # somebody else, in this browser
    step = sso_sign_in(client, admin.workspace.slug, idp)
    assert step["Location"].startswith("/login/verify")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31), tick=False):
        assert client.post("/login/verify", {"code": totp.now(), "next": "/app/"})["Location"] == "/app/"
    assert client.get("/app/").context["agent"].pk == agent.pk
    client.post("/app/x/workspace", {"workspace": other.workspace_id})
    assert client.get("/app/").context["agent"].pk == agent.pk  # the other workspace stays closed

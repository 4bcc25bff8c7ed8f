"""/api/v1/agents/invitations and the sign-in operations on an agent (forced password reset, second factor
reset): admins only, errors as {code, message}, another workspace's ids answer 404 and change nothing."""

from __future__ import annotations

import pyotp
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from threadline.conversations.tests.builders import bearer, send_json
from threadline.routing.models import AgentProfile
from threadline.tenancy.actions import do_create_team
from threadline.tenancy.models import Invitation, LinkPurpose, Membership, Role, SetupLink, User
from threadline.testing.factories import PASSWORD, make_agent, make_token, make_workspace
from threadline.testing.mailbox import link_in, wait_for_mail
from threadline.web.actions import do_start_totp, do_verify_totp
from threadline.web.models import TotpDevice

INVITATIONS = "/api/v1/agents/invitations"


def test_an_admin_invites_through_the_api_and_the_link_is_mailed(api, admin, system_mail):
    with transaction.atomic():
        team = do_create_team(admin.workspace, "Billing")
    created = send_json(api, "post", INVITATIONS, {"email": "Noa@Example.com", "name": "Noa", "role": "light_agent",
                                                   "team_ids": [team.pk], "skills": ["VIP"],
                                                   "capacity": {"chat": 1}})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["email"], body["status"], body["url"]) == ("noa@example.com", "pending", None)
    assert body["sent_at"] is not None
    link_in(wait_for_mail(system_mail)[0], "invite")
    seat = Membership.objects.get(pk=body["agent_id"])
    assert (seat.role, seat.is_active, list(seat.teams.all())) == (Role.LIGHT_AGENT, False, [team])
    assert AgentProfile.objects.get(membership=seat).skills == ["vip"]
    agent = api.get(f"/api/v1/agents/{seat.pk}").json()
    assert (agent["status"], agent["is_active"]) == ("invited", False)
    listed = api.get(INVITATIONS).json()["items"]
    assert [i["email"] for i in listed] == ["noa@example.com"] and "url" not in listed[0]
    again = send_json(api, "post", INVITATIONS, {"email": "noa@example.com"})
    assert (again.status_code, again.json()["code"]) == (409, "invitation_exists")


def test_without_mail_the_answer_carries_the_link_once(api, admin, no_system_mail):
    created = send_json(api, "post", INVITATIONS, {"email": "noa@example.com"}).json()
    assert created["sent_at"] is None and "/invite/" in created["url"]
    path = created["url"].split("://", 1)[1].partition("/")[2]
    assert Client().get("/" + path).status_code == 200
    resent = send_json(api, "post", f"{INVITATIONS}/{created['id']}/resend", {}).json()
    assert resent["url"] != created["url"]
    assert Client().get("/" + path).status_code == 404  # the old link stopped working
    assert api.delete(f"{INVITATIONS}/{created['id']}").status_code == 204
    revoked = api.get(INVITATIONS).json()["items"][0]
    assert (revoked["status"], revoked["agent_id"]) == ("revoked", None)
    twice = api.delete(f"{INVITATIONS}/{created['id']}")
    assert (twice.status_code, twice.json()["code"]) == (409, "invitation_closed")


@pytest.mark.parametrize(("document", "status", "code"), [
    ({"email": "not an email"}, 400, "invalid"),
    ({"email": "x@example.com", "team_ids": [999999]}, 400, "team_not_found"),
    ({"email": "x@example.com", "capacity": {"chat": 5000}}, 400, "invalid_capacity"),
    ({"email": "x@example.com", "role": "owner"}, 422, None),
    ({"email": "x@example.com", "capacity": {"voice": 1}}, 422, None),
])
def test_bad_invitations_are_refused_with_a_code(api, admin, no_system_mail, document, status, code):
    response = send_json(api, "post", INVITATIONS, document)
    assert response.status_code == status
    body = response.json()
    assert body["message"] and (code is None or body["code"] == code)
    assert not Invitation.objects.exists() and not User.objects.filter(email="x@example.com").exists()


def test_forced_reset_and_second_factor_reset(api, admin):
    bob = make_agent(admin, "bob@example.com")
    with transaction.atomic():
        totp = pyotp.TOTP(do_start_totp(bob.user))
        do_verify_totp(TotpDevice.objects.get(user=bob.user), totp.now())
    assert api.post(f"/api/v1/agents/{bob.pk}/password-reset").status_code == 204
    bob.user.refresh_from_db()
    assert bob.user.must_change_password and bob.user.session_epoch == 1
    assert api.delete(f"/api/v1/agents/{bob.pk}/second-factor").status_code == 204
    assert not TotpDevice.objects.filter(user=bob.user).exists()


def test_deactivating_through_the_api_refuses_to_activate_an_invitation(api, admin, no_system_mail):
    created = send_json(api, "post", INVITATIONS, {"email": "noa@example.com"}).json()
    refused = send_json(api, "patch", f"/api/v1/agents/{created['agent_id']}", {"is_active": True})
    assert (refused.status_code, refused.json()["code"]) == (409, "invitation_pending")


@pytest.mark.parametrize("role", [Role.AGENT, Role.LIGHT_AGENT])
def test_agents_and_light_agents_may_not(client, admin, no_system_mail, role):
    member = make_agent(admin, f"{role}@example.com", role=role)
    target = make_agent(admin, "target@example.com")
    invitation = send_json(client, "post", INVITATIONS, {"email": "noa@example.com"}, **bearer(make_token(admin)))
    auth = bearer(make_token(member))
    calls = [("post", INVITATIONS, {"email": "sneaky@example.com"}), ("get", INVITATIONS, None),
             ("post", f"{INVITATIONS}/{invitation.json()['id']}/resend", {}),
             ("delete", f"{INVITATIONS}/{invitation.json()['id']}", None),
             ("post", f"/api/v1/agents/{target.pk}/password-reset", None),
             ("delete", f"/api/v1/agents/{target.pk}/second-factor", None)]
    for method, path, document in calls:
        response = send_json(client, method, path, document, **auth) if document is not None else \
            getattr(client, method)(path, **auth)
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "permission_denied"
    assert not User.objects.filter(email="sneaky@example.com").exists()
    target.user.refresh_from_db()
    assert not target.user.must_change_password
    assert Invitation.objects.get().revoked_at is None


def test_another_workspaces_ids_answer_404_and_change_nothing(client, admin, no_system_mail):
    target = make_agent(admin, "target@example.com")
    invitation = send_json(client, "post", INVITATIONS, {"email": "noa@example.com"}, **bearer(make_token(admin)))
    other = make_workspace(name="Other Co")
    auth = bearer(make_token(other))
    invitation_id = invitation.json()["id"]
    assert client.post(f"{INVITATIONS}/{invitation_id}/resend", **auth).status_code == 404
    assert client.delete(f"{INVITATIONS}/{invitation_id}", **auth).status_code == 404
    assert client.post(f"/api/v1/agents/{target.pk}/password-reset", **auth).status_code == 404
    assert client.delete(f"/api/v1/agents/{target.pk}/second-factor", **auth).status_code == 404
    assert send_json(client, "patch", f"/api/v1/agents/{target.pk}", {"is_active": False}, **auth).status_code == 404
    assert client.get(INVITATIONS, **auth).json()["items"] == []
    target.refresh_from_db()
    target.user.refresh_from_db()
    assert target.is_active and not target.user.must_change_password
    assert Invitation.objects.get(pk=invitation_id).revoked_at is None


def test_inviting_a_person_of_another_workspace_never_renames_them(client, admin, no_system_mail):
    dana = make_agent(admin, "dana@example.com")
    dana.user.name = "Dana"
    dana.user.set_password(PASSWORD)
    dana.user.save()
    other = make_workspace(name="Other Co")
    auth = bearer(make_token(other))
    created = send_json(client, "post", INVITATIONS, {"email": "dana@example.com", "name": "Mallory"}, **auth).json()
    dana.user.refresh_from_db()
    assert dana.user.name == "Dana"
    path = "/" + created["url"].split("://", 1)[1].partition("/")[2]
    Client().post(path, {"name": "Mallory", "password": "plum-orchard-velvet-42",
                         "confirm": "plum-orchard-velvet-42"})
    dana.user.refresh_from_db()
    assert dana.user.name == "Dana" and dana.user.check_password(PASSWORD)
    seat = Membership.objects.get(workspace=other.workspace, user=dana.user)
    refused = client.post(f"/api/v1/agents/{seat.pk}/password-reset", **auth)
    assert (refused.status_code, refused.json()["code"]) == (409, "shared_person")
    renamed = send_json(client, "patch", f"/api/v1/agents/{seat.pk}", {"name": "Mallory"}, **auth)
    assert (renamed.status_code, renamed.json()["code"]) == (409, "shared_person")


def test_openapi_lists_the_people_endpoints(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/agents/invitations", "/api/v1/agents/invitations/{invitation_id}/resend",
            "/api/v1/agents/invitations/{invitation_id}", "/api/v1/agents/{agent_id}/password-reset",
            "/api/v1/agents/{agent_id}/second-factor"} <= set(paths)


# ── the command line ─────────────────────────────────────────────────────────────────────────────────
def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("agent", *args, stdout=out)
    return out.getvalue()


def test_the_cli_invites_and_prints_the_link(admin, no_system_mail):
    with transaction.atomic():
        do_create_team(admin.workspace, "Billing")
    output = run("invite", "--email", "cli@example.com", "--workspace", admin.workspace.slug, "--role", "agent",
                 "--team", "Billing")
    assert "not mailed" in output and "/invite/" in output
    path = "/" + output.split("://", 1)[1].partition("/")[2].split()[0]
    assert Client().get(path).status_code == 200
    seat = Membership.objects.get(user__email="cli@example.com")
    assert [t.name for t in seat.teams.all()] == ["Billing"]


def test_the_cli_mails_an_invitation_when_mail_is_set_up(admin, system_mail):
    output = run("invite", "--email", "cli@example.com", "--workspace", admin.workspace.slug)
    assert "(mailed)" in output
    assert link_in(wait_for_mail(system_mail)[0], "invite") in output


def test_the_cli_resets_a_password_and_a_second_factor(admin, no_system_mail):
    output = run("reset-password", "--email", admin.user.email)
    assert "/login/reset/" in output
    assert SetupLink.objects.filter(user=admin.user, purpose=LinkPurpose.RESET).count() == 1
    with transaction.atomic():
        totp = pyotp.TOTP(do_start_totp(admin.user))
        do_verify_totp(TotpDevice.objects.get(user=admin.user), totp.now())
    assert "removed" in run("reset-2fa", "--email", admin.user.email)
    assert not TotpDevice.objects.filter(user=admin.user).exists()
    assert "had no two-factor" in run("reset-2fa", "--email", admin.user.email)


def test_adding_a_person_who_has_an_account_invites_them_instead(client, admin, no_system_mail):
    dana = make_agent(admin, "dana@example.com")
    dana.user.name = "Dana"
    dana.user.save()
    other = make_workspace(name="Other Co")
    auth = bearer(make_token(other))
    answer = send_json(client, "post", "/api/v1/agents", {"email": "dana@example.com", "name": "Mallory"}, **auth)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["status"], body["is_active"], body["name"]) == ("invited", False, "Dana")
    assert "/invite/" in body["invitation_url"]
    assert client.get(f"/api/v1/agents/{body['id']}", **auth).json()["invitation_url"] is None
    fresh = send_json(client, "post", "/api/v1/agents", {"email": "fresh@example.com", "name": "Fresh"}, **auth).json()
    assert (fresh["status"], fresh["is_active"], fresh["invitation_url"]) == ("active", True, None)

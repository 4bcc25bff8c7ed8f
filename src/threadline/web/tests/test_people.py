"""/app/admin/people: inviting by email (mailed over a real SMTP server, or shown to the admin when there is
none), the invited person joining through the link and landing in the workspace, per-person operations
(role, teams, skills, capacity, deactivation handing conversations back to routing, reactivation, second
factor and password resets, re-sending and revoking invitations), permissions and two workspaces."""

from __future__ import annotations

import re

import pyotp
from django.db import transaction
from django.test import Client

from threadline.audit.models import AuditEntry
from threadline.conversations.actions import do_update_conversation
from threadline.routing.models import AgentProfile
from threadline.tenancy.actions import do_create_team
from threadline.tenancy.models import Invitation, Membership, Role, User
from threadline.testing import factories
from threadline.testing.factories import PASSWORD, make_agent, make_api_channel
from threadline.testing.mailbox import link_in, wait_for_mail
from threadline.web.actions import do_start_totp, do_verify_totp
from threadline.web.models import TotpDevice
from threadline.web.tests.helpers import customer_writes

NEW = "plum-orchard-velvet-42"


def invite(client, email, *, follow=False, **fields):
    return client.post("/app/admin/people/invite", {"email": email, "role": "agent", **fields}, follow=follow)


def team(admin, name="Billing"):
    with transaction.atomic():
        return do_create_team(admin.workspace, name)


def test_invite_mail_link_password_and_the_workspace(client, admin, system_mail):
    billing = team(admin)
    client.force_login(admin.user)
    screen = client.get("/app/admin/people")
    assert screen.status_code == 200 and b'action="/app/admin/people/invite"' in screen.content
    assert b'value="light_agent"' in screen.content  # the role selector offers Role.choices

    sent = invite(client, "new.agent@example.com", name="Noa", team_ids=[billing.pk], skills="Refunds, hebrew",
                  capacity_chat="2", capacity_email="")
    assert sent.status_code == 302 and sent["Location"] == "/app/admin/people"
    seat = Membership.objects.get(user__email="new.agent@example.com")
    assert not seat.is_active and seat.role == Role.AGENT
    assert list(seat.teams.all()) == [billing]
    profile = AgentProfile.objects.get(membership=seat)
    assert profile.skills == ["hebrew", "refunds"] and profile.capacity == {"chat": 2}
    listed = client.get("/app/admin/people").content.decode()
    assert "new.agent@example.com" in listed and "Invited" in listed

    message = wait_for_mail(system_mail)[0]
    assert message.rcpt_tos == ["new.agent@example.com"]
    assert admin.workspace.name in message.message["Subject"]
    path = link_in(message, "invite")
    assert Invitation.objects.get(membership=seat).sent_at is not None

    newcomer = Client(HTTP_ACCEPT_LANGUAGE="he")
    form = newcomer.get(path)
    assert form.status_code == 200 and form["Referrer-Policy"] == "same-origin"
    html = form.content.decode()
    assert 'name="password"' in html and 'value="he" lang="he" selected' in html  # the browser's language
    assert 'src="/static/web/invite.js"' in html  # fills in the browser's time zone
    weak = newcomer.post(path, {"name": "Noa Levi", "password": "new.agent@example.com",
                                "confirm": "new.agent@example.com", "language": "he", "time_zone": "Asia/Jerusalem"})
    assert weak.status_code == 400
    joined = newcomer.post(path, {"name": "Noa Levi", "password": NEW, "confirm": NEW, "language": "he",
                                  "time_zone": "Asia/Jerusalem"})
    assert joined.status_code == 302 and joined["Location"] == "/app/"
    assert newcomer.get("/app/").status_code == 200  # signed in, in the workspace
    seat.refresh_from_db()
    user = seat.user
    assert seat.is_active and user.name == "Noa Levi" and user.check_password(NEW)
    assert (user.language, user.time_zone) == ("he", "Asia/Jerusalem")
    assert Client().get(path).status_code == 404  # one use
    assert {"agent.invited", "agent.joined"} <= set(AuditEntry.objects.values_list("action", flat=True))


def test_without_a_mail_server_the_link_is_shown_to_the_admin(client, admin, no_system_mail):
    client.force_login(admin.user)
    shown = invite(client, "solo@example.com")
    assert shown.status_code == 200
    found = re.search(r'value="https?://[^/"]+(/invite/[A-Za-z0-9_-]+)"', shown.content.decode())
    assert found
    assert Invitation.objects.get(email="solo@example.com").sent_at is None
    assert Client().get(found.group(1)).status_code == 200


def test_the_list_shows_status_and_last_activity(client, admin, no_system_mail):
    gone = make_agent(admin, "gone@example.com")
    client.force_login(admin.user)
    client.post(f"/app/admin/people/{gone.pk}/deactivate")
    invite(client, "pending@example.com")
    html = client.get("/app/admin/people").content.decode()
    for word in ("Active", "Invited", "Deactivated", "gone@example.com", "pending@example.com", "Never"):
        assert word in html
    admin.refresh_from_db()
    assert admin.last_seen_at is not None  # the admin's own requests count
    seen = admin.last_seen_at
    client.get("/app/admin/people")
    admin.refresh_from_db()
    assert admin.last_seen_at == seen  # at most one write a minute


def test_changing_role_teams_skills_and_capacity(client, admin):
    agent = make_agent(admin, "dana@example.com")
    billing = team(admin)
    client.force_login(admin.user)
    saved = client.post(f"/app/admin/people/{agent.pk}/update", {"role": "light_agent", "team_ids": [billing.pk],
                                                                 "skills": "vip", "capacity_chat": "4",
                                                                 "capacity_email": "12"})
    assert saved.status_code == 302
    agent.refresh_from_db()
    assert agent.role == Role.LIGHT_AGENT and list(agent.teams.all()) == [billing]
    assert AgentProfile.objects.get(membership=agent).capacity == {"chat": 4, "email": 12}
    bad = client.post(f"/app/admin/people/{agent.pk}/update", {"role": "agent", "capacity_chat": "lots"}, follow=True)
    assert "Capacity is a number" in bad.content.decode()
    agent.refresh_from_db()
    assert agent.role == Role.LIGHT_AGENT  # nothing of a refused form is kept
    page = client.get(f"/app/admin/people/{agent.pk}").content.decode()
    assert 'value="vip"' in page


def test_deactivation_confirms_then_hands_conversations_back_to_routing(client, admin, run_jobs):
    agent = make_agent(admin, "dana@example.com")
    agent.user.set_password(PASSWORD)
    agent.user.save()
    channel = make_api_channel(admin)
    conversation = customer_writes(channel, "Where is my order?").conversation
    with transaction.atomic():
        do_update_conversation(None, conversation, assignee=agent)
    run_jobs()
    agents_session = Client()
    agents_session.post("/login", {"email": agent.user.email, "password": PASSWORD})
    assert agents_session.get("/app/").status_code == 200

    client.force_login(admin.user)
    confirm = client.get(f"/app/admin/people/{agent.pk}?confirm=deactivate").content.decode()
    assert "1 open conversation goes back to routing" in confirm
    done = client.post(f"/app/admin/people/{agent.pk}/deactivate", follow=True)
    assert "dana@example.com is deactivated; 1 conversation goes back to routing." in done.content.decode()
    run_jobs()
    conversation.refresh_from_db()
    agent.refresh_from_db()
    assert not agent.is_active and conversation.assignee_id is None
    assert conversation.events.filter(kind="reassigning").exists()
    assert agents_session.get("/app/").status_code == 302

    again = client.post(f"/app/admin/people/{agent.pk}/reactivate")
    assert again.status_code == 302
    agent.refresh_from_db()
    assert agent.is_active


def test_an_admin_cannot_deactivate_themselves(client, admin):
    client.force_login(admin.user)
    refused = client.post(f"/app/admin/people/{admin.pk}/deactivate", follow=True)
    assert "You cannot deactivate or demote yourself" in refused.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_resetting_the_second_factor(client, admin):
    agent = make_agent(admin, "dana@example.com")
    with transaction.atomic():
        totp = pyotp.TOTP(do_start_totp(agent.user))
        do_verify_totp(TotpDevice.objects.get(user=agent.user), totp.now())
    client.force_login(admin.user)
    assert "Reset two-factor sign-in" in client.get(f"/app/admin/people/{agent.pk}").content.decode()
    client.post(f"/app/admin/people/{agent.pk}/reset-2fa")
    assert not TotpDevice.objects.filter(user=agent.user).exists()
    agent.user.refresh_from_db()
    assert agent.user.session_epoch == 1
    assert AuditEntry.objects.filter(action="2fa.reset", target_id=str(agent.pk)).exists()


def test_resend_replaces_the_link_and_revoke_removes_the_seat(client, admin, system_mail):
    client.force_login(admin.user)
    invite(client, "later@example.com")
    first = link_in(wait_for_mail(system_mail, 1)[0], "invite")
    seat = Membership.objects.get(user__email="later@example.com")
    assert client.post(f"/app/admin/people/{seat.pk}/reactivate", follow=True).status_code == 200
    seat.refresh_from_db()
    assert not seat.is_active  # an invited seat is activated only by its link
    client.post(f"/app/admin/people/{seat.pk}/resend")
    second = link_in(wait_for_mail(system_mail, 2)[1], "invite")
    assert first != second
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    client.post(f"/app/admin/people/{seat.pk}/revoke")
    assert Client().get(second).status_code == 404
    assert not Membership.objects.filter(pk=seat.pk).exists()
    assert Invitation.objects.get(email="later@example.com").revoked_at is not None


def test_expired_invitations_are_refused(client, admin, no_system_mail):
    client.force_login(admin.user)
    path = re.search(r'(/invite/[A-Za-z0-9_-]+)"', invite(client, "late@example.com").content.decode()).group(1)
    Invitation.objects.update(expires_at="2020-01-01T00:00:00Z")
    refused = Client().post(path, {"name": "Late", "password": NEW, "confirm": NEW, "language": "en",
                                   "time_zone": "UTC"})
    assert refused.status_code == 404
    assert not Membership.objects.get(user__email="late@example.com").is_active


def test_agents_and_light_agents_are_refused(client, admin):
    target = make_agent(admin, "target@example.com")
    for role in (Role.AGENT, Role.LIGHT_AGENT):
        member = make_agent(admin, f"{role}@example.com", role=role)
        client.force_login(member.user)
        assert client.get("/app/admin/people").status_code == 403
        assert client.get(f"/app/admin/people/{target.pk}").status_code == 403
        assert invite(client, "sneaky@example.com").status_code == 403
        for operation in ("deactivate", "force-reset", "reset-2fa", "update"):
            assert client.post(f"/app/admin/people/{target.pk}/{operation}", {"role": "admin"}).status_code == 403
    assert not User.objects.filter(email="sneaky@example.com").exists()
    target.refresh_from_db()
    target.user.refresh_from_db()
    assert target.is_active and target.role == Role.AGENT and not target.user.must_change_password


def test_another_workspaces_people_answer_404_and_change_nothing(client, admin):
    target = make_agent(admin, "target@example.com")
    other = factories.make_workspace(name="Other Co")
    client.force_login(other.user)
    assert client.get(f"/app/admin/people/{target.pk}").status_code == 404
    for operation in ("deactivate", "force-reset", "reset-2fa", "update", "resend", "revoke"):
        assert client.post(f"/app/admin/people/{target.pk}/{operation}", {"role": "admin"}).status_code == 404
    assert "target@example.com" not in client.get("/app/admin/people").content.decode()
    target.refresh_from_db()
    target.user.refresh_from_db()
    assert target.is_active and target.role == Role.AGENT
    assert not target.user.must_change_password and target.user.session_epoch == 0


def test_a_person_of_another_workspace_is_invited_never_renamed_or_given_a_password(client, admin, system_mail):
    dana = make_agent(admin, "dana@example.com")
    dana.user.set_password(PASSWORD)
    dana.user.name = "Dana"
    dana.user.save()
    other = factories.make_workspace(name="Other Co")
    client.force_login(other.user)
    invite(client, "dana@example.com", name="Mallory")
    path = link_in(wait_for_mail(system_mail)[0], "invite")
    dana.user.refresh_from_db()
    assert dana.user.name == "Dana"

    page = Client().get(path).content.decode()
    assert "You already have an account" in page and 'name="password"' not in page
    joined = Client().post(path, {"name": "Mallory", "password": NEW, "confirm": NEW})
    assert joined.status_code == 302 and joined["Location"].startswith("/login")
    dana.user.refresh_from_db()
    assert dana.user.name == "Dana" and dana.user.check_password(PASSWORD)
    seat = Membership.objects.get(workspace=other.workspace, user=dana.user)
    assert seat.is_active

    # Account-wide operations stay with the person: the second workspace cannot force them.
    refused = client.post(f"/app/admin/people/{seat.pk}/force-reset", follow=True)
    assert "also works in another workspace" in refused.content.decode()
    client.post(f"/app/admin/people/{seat.pk}/reset-2fa")
    dana.user.refresh_from_db()
    assert not dana.user.must_change_password and dana.user.session_epoch == 0


def test_the_operator_account_cannot_be_invited(client, admin, no_system_mail):
    User.objects.create_superuser("operator@example.com", PASSWORD)
    client.force_login(admin.user)
    refused = invite(client, "operator@example.com", follow=True)
    assert "operator" in refused.content.decode()
    assert not Membership.objects.filter(user__email="operator@example.com").exists()


def test_someone_invited_to_two_workspaces_sets_their_password_with_the_first_link_used(client, admin, system_mail):
    other = factories.make_workspace(name="Other Co")
    client.force_login(admin.user)
    invite(client, "twice@example.com")
    second = Client()
    second.force_login(other.user)
    invite(second, "twice@example.com")
    links = [link_in(message, "invite") for message in wait_for_mail(system_mail, 2)]
    page = Client().get(links[1]).content.decode()
    assert 'name="password"' in page  # the other invitation is not a seat yet: still a new person
    joined = Client().post(links[1], {"name": "Tali", "password": NEW, "confirm": NEW, "language": "en",
                                      "time_zone": "UTC"})
    assert joined.status_code == 302 and joined["Location"] == "/app/"
    page = Client().get(links[0]).content.decode()
    assert "You already have an account" in page and 'name="password"' not in page

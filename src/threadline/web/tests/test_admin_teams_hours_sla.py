"""The teams, business hours and SLA screens (/app/admin/teams, /hours, /sla), driven through their POST forms:
create, edit and delete, validation errors re-rendered with a 4xx, audit entries, permissions, and another
workspace's ids answering 404 without changing anything."""

from __future__ import annotations

import datetime as dt

import pytest

from threadline.audit.models import AuditEntry
from threadline.routing.models import AgentProfile, TeamPolicy
from threadline.sla.models import BusinessSchedule, SlaPolicy
from threadline.tenancy.models import Role, Team
from threadline.testing import factories

WEEKDAYS = {"mon_start": ["09:00", "14:00"], "mon_end": ["12:00", "18:00"], "tue_start": ["09:00", ""],
            "tue_end": ["17:00", ""]}


def _audited(admin, action: str) -> AuditEntry:
    entry = AuditEntry.objects.filter(workspace_id=admin.workspace_id, action=action).order_by("-id").first()
    assert entry is not None, f"no {action} entry"
    assert entry.actor_membership_id == admin.pk
    return entry


# ── teams and skills ─────────────────────────────────────────────────────────────────────────────────
def test_an_admin_creates_renames_staffs_and_deletes_a_team(client, admin):
    agent = factories.make_agent(admin, "sam@example.com")
    client.force_login(admin.user)
    page = client.get("/app/admin/teams")
    assert page.status_code == 200 and "Teams and skills" in page.content.decode()

    response = client.post("/app/admin/teams", {"name": "Billing", "member_ids": [agent.pk]})
    assert response.status_code == 302
    team = Team.objects.get(workspace=admin.workspace, name="Billing")
    assert list(team.members.all()) == [agent]
    _audited(admin, "team.created")
    assert "Team created." in client.get(response["Location"]).content.decode()

    schedule = BusinessSchedule.objects.create(workspace=admin.workspace, name="Office", time_zone="UTC",
                                               weekly={"mon": [["09:00", "17:00"]]})
    response = client.post(f"/app/admin/teams/{team.pk}", {
        "name": "Payments", "member_ids": [agent.pk, admin.pk], "policy": "least_loaded",
        "schedule_id": schedule.pk, "required_skills": "Refunds, cards"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Payments" and set(team.members.all()) == {agent, admin}
    policy = TeamPolicy.objects.get(team=team)
    assert (policy.policy, policy.schedule_id, policy.required_skills) == ("least_loaded", schedule.pk,
                                                                          ["cards", "refunds"])
    assert _audited(admin, "team.renamed").details == {"old": "Billing", "new": "Payments"}
    assert _audited(admin, "team.policy_updated").details == {
        "team_id": team.pk, "policy": "least_loaded", "schedule_id": schedule.pk, "required_skills": ["cards", "refunds"]}
    entries = AuditEntry.objects.filter(workspace_id=admin.workspace_id).count()
    client.post(f"/app/admin/teams/{team.pk}", {  # saved again unchanged: nothing new to record
        "name": "Payments", "member_ids": [agent.pk, admin.pk], "policy": "least_loaded",
        "schedule_id": schedule.pk, "required_skills": "refunds, cards"})
    assert AuditEntry.objects.filter(workspace_id=admin.workspace_id).count() == entries

    assert client.post(f"/app/admin/teams/{team.pk}/delete").status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    assert _audited(admin, "team.deleted").details["name"] == "Payments"


def test_a_team_without_a_name_or_a_duplicate_name_is_refused_and_the_form_shown_again(client, admin):
    client.force_login(admin.user)
    client.post("/app/admin/teams", {"name": "Sales"})
    response = client.post("/app/admin/teams", {"name": "   "})
    assert response.status_code == 400
    assert "A team needs a name." in response.content.decode()
    response = client.post("/app/admin/teams", {"name": "Sales"})
    assert response.status_code == 409 and 'role="alert"' in response.content.decode()
    assert Team.objects.filter(workspace=admin.workspace).count() == 1


def test_agents_skills_languages_and_capacity_are_saved_and_listed_by_skill(client, admin):
    agent = factories.make_agent(admin, "noa@example.com")
    client.force_login(admin.user)
    response = client.post(f"/app/admin/teams/agents/{agent.pk}", {
        "skills": "Hebrew support, refunds", "languages": "he, en", "capacity_chat": "5", "capacity_email": "20"})
    assert response.status_code == 302
    profile = AgentProfile.objects.get(membership=agent)
    assert profile.skills == ["hebrew support", "refunds"] and profile.languages == ["en", "he"]
    assert profile.capacity == {"chat": 5, "email": 20}
    _audited(admin, "agent.routing_updated")
    html = client.get("/app/admin/teams").content.decode()
    assert "refunds" in html and "Noa" in html

    response = client.post(f"/app/admin/teams/agents/{agent.pk}", {"capacity_chat": "-1", "capacity_email": "2"})
    assert response.status_code == 400
    assert AgentProfile.objects.get(membership=agent).capacity == {"chat": 5, "email": 20}


# ── business hours and holidays ──────────────────────────────────────────────────────────────────────
def test_an_admin_builds_a_weekly_schedule_with_holidays_and_sees_open_now(client, admin):
    client.force_login(admin.user)
    response = client.post("/app/admin/hours", {
        "name": "Tel Aviv office", "time_zone": "Asia/Jerusalem", "holiday_country": "IL",
        "holiday_date": ["2030-12-31", ""], "holiday_name": ["Stocktaking", ""], **WEEKDAYS})
    assert response.status_code == 302
    schedule = BusinessSchedule.objects.get(workspace=admin.workspace)
    assert schedule.weekly == {"mon": [["09:00", "12:00"], ["14:00", "18:00"]], "tue": [["09:00", "17:00"]]}
    assert schedule.holiday_country == "IL"
    assert schedule.custom_holidays == [{"date": "2030-12-31", "name": "Stocktaking"}]
    _audited(admin, "schedule.created")

    html = client.get("/app/admin/hours").content.decode()
    assert "Open now" in html or "Closed now" in html
    assert "Next opening" in html or "Closes" in html

    every_day = {f"{d}_start": "00:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    every_day.update({f"{d}_end": "00:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    response = client.post(f"/app/admin/hours/{schedule.pk}", {
        "name": "Always", "time_zone": "UTC", **every_day})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.name == "Always" and schedule.weekly["sun"] == [["00:00", "24:00"]]
    assert schedule.custom_holidays == [] and schedule.holiday_country == ""
    html = client.get("/app/admin/hours").content.decode()
    assert "Open now" in html
    _audited(admin, "schedule.updated")

    assert client.post(f"/app/admin/hours/{schedule.pk}/delete").status_code == 302
    assert not BusinessSchedule.objects.filter(pk=schedule.pk).exists()
    _audited(admin, "schedule.deleted")


def test_the_next_closed_days_include_the_countrys_public_holidays(client, admin):
    from threadline.sla.queries import upcoming_holidays

    schedule = BusinessSchedule(workspace=admin.workspace, name="x", time_zone="UTC", weekly={},
                                holiday_country="US", custom_holidays=[{"date": "2031-01-02", "name": "Ours"}])
    found = upcoming_holidays(schedule, dt.date(2030, 12, 20), days=20)
    assert [(h["date"], h["public"]) for h in found] == [(dt.date(2030, 12, 25), True), (dt.date(2031, 1, 1), True),
                                                         (dt.date(2031, 1, 2), False)]


@pytest.mark.parametrize(("change", "message"), [
    ({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
    ({"mon_start": ["12:00"], "mon_end": ["09:00"]}, "Ranges must be ordered"),
    ({"mon_start": ["09:00"], "mon_end": [""]}, "needs a start and an end"),
    ({"holiday_country": "XX"}, "No holiday calendar"),
    ({"name": ""}, "A schedule needs a name"),
])
def test_a_bad_schedule_is_refused_with_the_form_shown_again(client, admin, change, message):
    client.force_login(admin.user)
    form = {"name": "Office", "time_zone": "UTC", "mon_start": ["09:00"], "mon_end": ["17:00"], **change}
    response = client.post("/app/admin/hours", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'name="mon_start"' in response.content.decode()
    assert not BusinessSchedule.objects.exists()


# ── SLA policies ─────────────────────────────────────────────────────────────────────────────────────
def test_an_admin_creates_edits_and_deletes_an_sla_policy(client, admin):
    client.force_login(admin.user)
    schedule = BusinessSchedule.objects.create(workspace=admin.workspace, name="Office", time_zone="UTC",
                                               weekly={"mon": [["09:00", "17:00"]]})
    response = client.post("/app/admin/sla", {
        "name": "Urgent chats", "position": "10", "is_active": "on", "first_response_minutes": "15",
        "resolution_minutes": "240", "warn_before_minutes": "5", "schedule_id": str(schedule.pk),
        "priorities": ["urgent", "high"], "channel_kinds": ["webchat"], "languages": "HE, en",
        "escalate_notify": "on", "escalate_priority": "urgent"})
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(workspace=admin.workspace)
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes) == (15, None, 240)
    assert policy.conditions == {"priorities": ["urgent", "high"], "channel_kinds": ["webchat"],
                                 "languages": ["he", "en"]}
    assert policy.escalation == [{"type": "notify"}, {"type": "set_priority", "value": "urgent"}]
    assert policy.schedule_id == schedule.pk and policy.is_active
    _audited(admin, "sla_policy.created")
    assert "Urgent chats" in client.get("/app/admin/sla").content.decode()

    response = client.post(f"/app/admin/sla/{policy.pk}", {"name": "Everything", "next_response_minutes": "60"})
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.is_active, policy.conditions, policy.escalation) == ("Everything", False, {}, [])
    assert policy.first_response_minutes is None and policy.next_response_minutes == 60
    _audited(admin, "sla_policy.updated")

    assert client.post(f"/app/admin/sla/{policy.pk}/delete").status_code == 302
    assert not SlaPolicy.objects.exists()
    _audited(admin, "sla_policy.deleted")


def test_a_policy_for_a_team_and_a_tag_starts_its_clocks_when_a_conversation_gets_them(client, admin, run_jobs):
    from django.db import transaction

    from threadline.conversations.actions import do_update_conversation
    from threadline.conversations.models import Conversation
    from threadline.sla.models import SlaTimer
    from threadline.web.tests.helpers import customer_writes

    vip_desk = Team.objects.create(workspace=admin.workspace, name="VIP desk")
    client.force_login(admin.user)
    response = client.post("/app/admin/sla", {"name": "VIP", "is_active": "on", "first_response_minutes": "30",
                                              "team_ids": [vip_desk.pk], "tags": "vip, gold"})
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert policy.conditions == {"team_ids": [vip_desk.pk], "tags": ["vip", "gold"]}
    assert 'value="vip, gold"' in client.get("/app/admin/sla").content.decode()

    channel = factories.make_api_channel(admin)
    conversation = Conversation.objects.get(pk=customer_writes(channel, "Hello").conversation_id)
    run_jobs()
    assert not SlaTimer.objects.filter(conversation=conversation).exists()  # no team, no tag yet
    with transaction.atomic():
        do_update_conversation(None, conversation, team=vip_desk)
    run_jobs()
    assert not SlaTimer.objects.filter(conversation=conversation).exists()  # the team alone is not enough
    with transaction.atomic():
        do_update_conversation(None, conversation, tags=["gold"])
    run_jobs()
    assert set(SlaTimer.objects.filter(conversation=conversation, policy=policy).values_list("metric", flat=True)) \
        == {"first_response"}


@pytest.mark.parametrize(("form", "message"), [
    ({"name": "No target"}, "A policy needs at least one target"),
    ({"name": "Bad", "first_response_minutes": "soon"}, "must be a whole number"),
    ({"name": "Bad", "first_response_minutes": "10", "priorities": ["whenever"]}, "Unknown priority"),
])
def test_a_bad_sla_policy_is_refused_with_the_form_shown_again(client, admin, form, message):
    client.force_login(admin.user)
    response = client.post("/app/admin/sla", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SlaPolicy.objects.exists()


# ── permissions and workspaces ───────────────────────────────────────────────────────────────────────
SCREENS = ("/app/admin/teams", "/app/admin/hours", "/app/admin/sla")


@pytest.mark.parametrize("role", [Role.AGENT, Role.LIGHT_AGENT])
def test_agents_and_light_agents_are_refused_every_screen_and_write(client, admin, role):
    member = factories.make_agent(admin, "someone@example.com", role=role)
    team = Team.objects.create(workspace=admin.workspace, name="Keep")
    client.force_login(member.user)
    for url in SCREENS:
        assert client.get(url).status_code == 403
        assert client.post(url, {"name": "New"}).status_code == 403
    assert client.post(f"/app/admin/teams/{team.pk}/delete").status_code == 403
    assert client.post(f"/app/admin/teams/agents/{member.pk}", {"skills": "x"}).status_code == 403
    assert Team.objects.filter(workspace=admin.workspace).count() == 1
    assert not BusinessSchedule.objects.exists() and not SlaPolicy.objects.exists()


def test_another_workspaces_admin_gets_404_on_these_ids_and_changes_nothing(client, admin):
    agent = factories.make_agent(admin, "sam@example.com")
    team = Team.objects.create(workspace=admin.workspace, name="Ours")
    schedule = BusinessSchedule.objects.create(workspace=admin.workspace, name="Ours", time_zone="UTC",
                                               weekly={"mon": [["09:00", "17:00"]]})
    policy = SlaPolicy.objects.create(workspace=admin.workspace, name="Ours", first_response_minutes=5)
    other = factories.make_workspace(name="Other Co")
    client.force_login(other.user)
    for url, form in (
        (f"/app/admin/teams/{team.pk}", {"name": "Stolen"}),
        (f"/app/admin/teams/{team.pk}/delete", {}),
        (f"/app/admin/teams/agents/{agent.pk}", {"skills": "x", "capacity_chat": "1", "capacity_email": "1"}),
        (f"/app/admin/hours/{schedule.pk}", {"name": "Stolen", "time_zone": "UTC", "mon_start": "09:00",
                                              "mon_end": "10:00"}),
        (f"/app/admin/hours/{schedule.pk}/delete", {}),
        (f"/app/admin/sla/{policy.pk}", {"name": "Stolen", "first_response_minutes": "1"}),
        (f"/app/admin/sla/{policy.pk}/delete", {}),
    ):
        assert client.post(url, form).status_code == 404, url
    team.refresh_from_db()
    schedule.refresh_from_db()
    policy.refresh_from_db()
    assert (team.name, schedule.name, policy.name) == ("Ours", "Ours", "Ours")
    assert not AgentProfile.objects.filter(membership=agent).exists()
    # and their own screens list nothing of ours
    for url in SCREENS:
        assert "Ours" not in client.get(url).content.decode()
    # a team of theirs cannot take our agent as a member
    response = client.post("/app/admin/teams", {"name": "Theirs", "member_ids": [agent.pk]})
    assert response.status_code == 400 and not Team.objects.filter(name="Theirs").exists()

"""/api/v1/agents and /api/v1/teams: everyone reads, admins change, a workspace never loses its last admin."""

from __future__ import annotations

import pytest

from threadline.conversations.tests.builders import bearer, send_json
from threadline.core.errors import Conflict
from threadline.tenancy.roster import check_keeps_an_admin
from threadline.testing.factories import make_agent, make_token, make_workspace


def test_admin_adds_an_agent_who_then_appears_in_the_list(api, admin):
    response = send_json(api, "post", "/api/v1/agents", {"email": "Bob@Acme.Example", "name": "Bob", "role": "agent"})
    assert response.status_code == 201, response.content
    bob = response.json()
    assert (bob["email"], bob["name"], bob["role"], bob["is_active"]) == ("bob@acme.example", "Bob", "agent", True)
    listing = api.get("/api/v1/agents").json()
    assert [a["email"] for a in listing["items"]] == [admin.user.email, "bob@acme.example"]
    assert api.get(f"/api/v1/agents/{bob['id']}").json() == bob
    again = send_json(api, "post", "/api/v1/agents", {"email": "bob@acme.example"})
    assert (again.status_code, again.json()["code"]) == (409, "agent_exists")


@pytest.mark.parametrize(("document", "status"), [
    ({"email": "not an email"}, 400),
    ({"email": "x@example.com", "role": "owner"}, 422),
])
def test_bad_agents_are_refused(api, document, status):
    assert send_json(api, "post", "/api/v1/agents", document).status_code == status


def test_admin_changes_role_name_and_deactivates(api, admin):
    bob = make_agent(admin, "bob@acme.example")
    response = send_json(api, "patch", f"/api/v1/agents/{bob.pk}", {"role": "light_agent", "name": "Robert"})
    assert (response.json()["role"], response.json()["name"]) == ("light_agent", "Robert")
    token = make_token(bob)
    assert send_json(api, "patch", f"/api/v1/agents/{bob.pk}", {"is_active": False}).json()["is_active"] is False
    assert api.get("/api/v1/me", **bearer(token)).status_code == 401  # a deactivated agent's token stops working


def test_an_admin_cannot_lock_themselves_out(api, admin):
    for change in ({"is_active": False}, {"role": "agent"}):
        response = send_json(api, "patch", f"/api/v1/agents/{admin.pk}", change)
        assert (response.status_code, response.json()["code"]) == (409, "self_lockout")
    other = make_agent(admin, "root@acme.example", role="admin")
    assert send_json(api, "patch", f"/api/v1/agents/{other.pk}", {"role": "agent"}).json()["role"] == "agent"


def test_the_last_active_admin_keeps_the_seat(admin):
    other = make_agent(admin, "root@acme.example", role="admin")
    other.is_active = False  # e.g. a script acting as a just-deactivated admin
    other.save()
    with pytest.raises(Conflict) as refused:
        check_keeps_an_admin(other, admin, role="agent", is_active=None)
    assert refused.value.code == "last_admin"


def test_agents_may_read_but_not_change_the_roster(client, admin):
    agent = bearer(make_token(make_agent(admin, "bob@acme.example")))
    assert client.get("/api/v1/agents", **agent).status_code == 200
    assert client.get("/api/v1/teams", **agent).status_code == 200
    refused = [
        send_json(client, "post", "/api/v1/agents", {"email": "eve@acme.example"}, **agent),
        send_json(client, "patch", f"/api/v1/agents/{admin.pk}", {"name": "X"}, **agent),
        send_json(client, "post", "/api/v1/teams", {"name": "Sales"}, **agent),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refused] == [(403, "permission_denied")] * 3


def test_another_workspaces_agent_is_not_found(api):
    stranger = make_workspace("Other Co")
    response = api.get(f"/api/v1/agents/{stranger.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "agent_not_found")


def test_team_lifecycle(api, admin):
    bob = make_agent(admin, "bob@acme.example")
    created = send_json(api, "post", "/api/v1/teams", {"name": "Billing", "member_ids": [bob.pk]})
    assert created.status_code == 201, created.content
    team = created.json()
    assert (team["name"], team["member_ids"]) == ("Billing", [bob.pk])
    assert api.get(f"/api/v1/agents/{bob.pk}").json()["team_ids"] == [team["id"]]
    renamed = send_json(api, "patch", f"/api/v1/teams/{team['id']}", {"name": "Payments",
                                                                       "member_ids": [admin.pk, bob.pk]})
    assert renamed.json()["name"] == "Payments"
    assert renamed.json()["member_ids"] == sorted([admin.pk, bob.pk])
    duplicate = send_json(api, "post", "/api/v1/teams", {"name": "Payments"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "team_exists")
    assert api.delete(f"/api/v1/teams/{team['id']}").status_code == 204
    assert api.get(f"/api/v1/teams/{team['id']}").status_code == 404
    assert api.get("/api/v1/teams").json()["items"] == []


def test_team_members_must_be_agents_of_the_workspace(api):
    stranger = make_workspace("Other Co")
    response = send_json(api, "post", "/api/v1/teams", {"name": "Sales", "member_ids": [stranger.pk]})
    assert (response.status_code, response.json()["field"]) == (400, "member_ids")


def test_deleting_a_team_clears_it_from_its_conversations_on_their_timeline(api, admin):
    from django.db import transaction

    from threadline.channels.base import InboundMessage
    from threadline.conversations.actions import do_update_conversation, receive_inbound_message
    from threadline.events.models import OutboxEvent
    from threadline.testing.factories import make_api_channel

    team = send_json(api, "post", "/api/v1/teams", {"name": "Billing"}).json()
    with transaction.atomic():
        conversation = receive_inbound_message(make_api_channel(admin), InboundMessage(
            provider_message_id="t1", sender_kind="email", sender_address="c@example.com", text="hi")).conversation
        from threadline.tenancy.models import Team

        do_update_conversation(admin, conversation, team=Team.objects.get(pk=team["id"]))
    assert api.delete(f"/api/v1/teams/{team['id']}").status_code == 204
    after = api.get(f"/api/v1/conversations/{conversation.pk}").json()
    assert after["team"] is None
    changes = [e for e in api.get(f"/api/v1/conversations/{conversation.pk}/events").json()["items"]
               if e["kind"] == "team_changed"]
    assert [(e["data"]["old"], e["data"]["new"]) for e in changes] == [(None, team["id"]), (team["id"], None)]
    deleted = OutboxEvent.objects.get(type="team.deleted")
    assert deleted.payload["conversation_ids"] == [conversation.pk]


def test_deactivating_an_agent_publishes_the_change(api, admin):
    from threadline.events.models import OutboxEvent

    bob = make_agent(admin, "bob@acme.example")
    assert send_json(api, "patch", f"/api/v1/agents/{bob.pk}", {"is_active": False}).status_code == 200
    event = OutboxEvent.objects.get(type="agent.updated")
    assert event.payload["membership_id"] == bob.pk and event.payload["changes"] == {"is_active": False}


def test_a_token_records_when_it_was_last_used_at_most_once_a_minute(api, admin):
    import datetime as dt

    import time_machine

    from threadline.tenancy.models import ApiToken

    start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert api.get("/api/v1/me").status_code == 200
        assert ApiToken.objects.get().last_used_at == start
        clock.shift(dt.timedelta(seconds=30))
        api.get("/api/v1/me")
        assert ApiToken.objects.get().last_used_at == start
        clock.shift(dt.timedelta(seconds=31))
        api.get("/api/v1/me")
        assert ApiToken.objects.get().last_used_at == start + dt.timedelta(seconds=61)

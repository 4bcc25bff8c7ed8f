"""An agent who never picked a status is shown online in the workspace; routing must agree, or a newly invited
agent looks online and is never given a conversation. Opening the workspace makes them online for routing
once; a status they picked (offline, away) is kept."""

from __future__ import annotations

from django.db import transaction

from threadline.routing.actions import do_set_presence, profile_of
from threadline.routing.models import AgentProfile, Presence
from threadline.testing.factories import make_agent


def test_opening_the_workspace_makes_an_agent_who_never_chose_online_for_routing(client, admin):
    agent = make_agent(admin, "noa@example.com")
    assert profile_of(agent).presence == Presence.OFFLINE
    client.force_login(agent.user)
    assert client.get("/app/", HTTP_ACCEPT_LANGUAGE="en").status_code in (200, 302)
    assert client.get("/app/").status_code == 200
    profile = AgentProfile.objects.get(membership=agent)
    assert profile.presence == Presence.ONLINE and profile.presence_changed_at is not None


def test_a_status_the_agent_picked_is_kept(client, admin):
    agent = make_agent(admin, "dan@example.com")
    with transaction.atomic():
        do_set_presence(profile_of(agent), Presence.ONLINE)
        do_set_presence(profile_of(agent), Presence.AWAY)
    client.force_login(agent.user)
    client.get("/app/")
    assert client.get("/app/").status_code == 200
    assert AgentProfile.objects.get(membership=agent).presence == Presence.AWAY

"""Occupancy while online: presence intervals written by the routing action (across a local midnight in a
non-UTC workspace), the agent-day facts' online and busy seconds against a minute-by-minute count made here
from the definitions in docs/analytics.md, the refresh and the rebuild agreeing, the API and the reports'
agents table showing it, and another workspace's agent never counted."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from threadline.analytics import metrics
from threadline.analytics.metrics import Filters
from threadline.analytics.models import AgentDayFact
from threadline.analytics.refresh import rebuild, refresh_stale
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, ConversationEvent
from threadline.routing.actions import do_set_presence, profile_of
from threadline.routing.models import PresenceInterval
from threadline.testing.bulk import given_times
from threadline.testing.factories import make_agent, make_token, make_workspace

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("America/New_York")  # UTC-5 in November: a local day is not a UTC day
D = dt.date(2026, 11, 10)


def local(day_offset: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(D + dt.timedelta(days=day_offset), dt.time(hour, minute), tzinfo=ZONE)


# (when, status) of agent A; B goes away only (never online). A's 22:00 local is 03:00 UTC the next day.
A_PRESENCE = [(local(0, 22), "online"), (local(1, 1), "away"), (local(1, 2), "online"), (local(1, 4), "offline")]
# c1: created 21:30, assigned to A at 23:00, solved 00:30 the next day. c2: created 01:30 with A as assignee (no
# "assigned" row), still open. c3: assigned to A 02:30, to B at 03:00 (so it overlaps c2: counted once).
C1 = (local(0, 21, 30), [(local(0, 23), "assigned", "A"), (local(1, 0, 30), "solved", None)])
C2 = (local(1, 1, 30), [])
C3 = (local(1, 2, 15), [(local(1, 2, 30), "assigned", "A"), (local(1, 3), "assigned", "B")])


def set_presence(agent, moments) -> None:
    for moment, status in moments:
        with transaction.atomic(), mock.patch("threadline.routing.actions.now", return_value=moment):
            do_set_presence(profile_of(agent), status)


def conversation(ws, contact, created, events, members, assignee=None) -> None:
    with transaction.atomic(), given_times(Conversation, ConversationEvent):
        c = Conversation.objects.create(workspace_id=ws, contact=contact, subject="Occupancy",
                                        status="solved" if any(k == "solved" for _at, k, _w in events) else "open",
                                        assignee=assignee, created_at=created, updated_at=created,
                                        last_message_at=created)
        ConversationEvent.objects.bulk_create([ConversationEvent(
            workspace_id=ws, conversation=c, kind="assigned" if kind == "assigned" else "status_changed",
            data={"old": None, "new": members[who].pk} if kind == "assigned" else {"old": "open", "new": "solved"},
            created_at=at, updated_at=at) for at, kind, who in events])


def expected(day_offset: int) -> dict[str, tuple[int, int]]:
    """Minute by minute over the local day: is A online; does A hold an open conversation."""
    start = local(day_offset, 0)
    online_minutes = busy_minutes = 0
    for m in range(24 * 60):
        t = start + dt.timedelta(minutes=m)
        status = next((s for at, s in reversed(A_PRESENCE) if at <= t), "offline")
        c1 = C1[0] <= t and local(0, 23) <= t < local(1, 0, 30)
        c2 = C2[0] <= t
        c3 = local(1, 2, 30) <= t < local(1, 3)
        if status == "online":
            online_minutes += 1
            busy_minutes += c1 or c2 or c3
    return {"A": (60 * online_minutes, 60 * busy_minutes)}


@pytest.fixture
def desk(admin):
    admin.workspace.time_zone = "America/New_York"
    admin.workspace.save(update_fields=["time_zone"])
    members = {"A": make_agent(admin, "occ-a@example.com"), "B": make_agent(admin, "occ-b@example.com")}
    set_presence(members["A"], A_PRESENCE)
    set_presence(members["B"], [(local(0, 9), "away")])
    contact = Contact.objects.create(workspace=admin.workspace, name="Occupied")
    ws = admin.workspace_id
    conversation(ws, contact, C1[0], C1[1], members)
    conversation(ws, contact, C2[0], C2[1], members, assignee=members["A"])
    conversation(ws, contact, C3[0], C3[1], members, assignee=members["B"])
    other = make_workspace("Other Desk")
    stranger = make_agent(other, "occ-x@example.com")
    set_presence(stranger, [(local(0, 8), "online"), (local(0, 20), "offline")])
    return members, other, stranger


def test_the_routing_action_writes_contiguous_intervals_across_local_midnight(desk):
    members, _other, stranger = desk
    rows = list(PresenceInterval.objects.filter(membership=members["A"]).order_by("started_at")
                .values_list("status", "started_at", "ended_at", "workspace_id"))
    assert [r[0] for r in rows] == ["online", "away", "online", "offline"]
    assert [r[1] for r in rows] == [at for at, _s in A_PRESENCE]
    assert [r[2] for r in rows] == [at for at, _s in A_PRESENCE[1:]] + [None]
    assert rows[0][1].astimezone(dt.UTC).date() == D + dt.timedelta(days=1)  # 22:00 local is the next UTC day
    assert {r[3] for r in rows} == {members["A"].workspace_id} != {stranger.workspace_id}
    with transaction.atomic():  # the same status again is no change and no row
        do_set_presence(profile_of(members["A"]), "offline")
    assert PresenceInterval.objects.filter(membership=members["A"]).count() == 4


def test_online_busy_and_occupancy_per_local_day(client, admin, desk):
    members, other, stranger = desk
    refresh_stale()  # the presence changes' days, through the cursor
    got = {(row.agent_id, row.day): (row.online_seconds, row.busy_seconds)
           for row in AgentDayFact.objects.filter(workspace_id=admin.workspace_id)}
    for offset in (0, 1):
        a_online, a_busy = expected(offset)["A"]
        assert got[(members["A"].pk, D + dt.timedelta(days=offset))] == (a_online, a_busy)
    assert got[(members["A"].pk, D)] == (7200, 3600)  # the definitions, by hand: 22-24 online, 23-24 busy
    assert got[(members["A"].pk, D + dt.timedelta(days=1))] == (10800, 9000)
    assert (members["B"].pk, D) not in got  # away all day, no reply: no agent-day row
    assert stranger.pk not in {agent for agent, _day in got}
    before = sorted(got.items())
    rebuild(admin.workspace_id)
    assert sorted(((r.agent_id, r.day), (r.online_seconds, r.busy_seconds)) for r in AgentDayFact.objects.filter(
        workspace_id=admin.workspace_id)) == before
    f = Filters(workspace_id=admin.workspace_id, start=D, end=D + dt.timedelta(days=1))
    rows = {row["agent_id"]: row for row in metrics.agents(f)}
    assert (rows[members["A"].pk]["online_seconds"], rows[members["A"].pk]["busy_seconds"]) == (18000, 12600)
    assert rows[members["A"].pk]["occupancy"] == round(12600 / 18000, 4)
    assert rows[members["B"].pk]["handled"] == 1 and rows[members["B"].pk]["occupancy"] is None  # never online
    series = client.get("/api/v1/analytics/series/agents?start=2026-11-11&end=2026-11-11",
                        HTTP_AUTHORIZATION=f"Bearer {make_token(admin)}").json()["items"]
    assert [(r["agent_id"], r["online_seconds"], r["busy_seconds"], r["occupancy"]) for r in series] == [
        (members["A"].pk, 10800, 9000, round(9000 / 10800, 4))]
    theirs = client.get("/api/v1/analytics/series/agents?start=2026-11-10&end=2026-11-11",
                        HTTP_AUTHORIZATION=f"Bearer {make_token(other)}").json()["items"]
    assert theirs == [] or all(r["agent_id"] == stranger.pk for r in theirs)
    client.force_login(admin.user)
    page = client.get("/app/reports?area=agents&language=en&start=2026-11-10&end=2026-11-11").content.decode()
    table = re.search(r'<section aria-labelledby="agents-title">(.*?)</section>', page, re.S)[1]
    assert "Time online" in table and "Occupancy" in table
    assert "70.0 %" in table  # A: 12,600 busy of 18,000 online seconds
    assert "5 hours" in table

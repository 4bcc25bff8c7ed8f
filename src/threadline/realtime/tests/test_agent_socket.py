"""The agent socket: events published by the worker thread reach it, a reconnect replays what it missed,
only signed-in agents from our own origin connect, and viewers, typing and presence are shared."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction

from threadline.conversations.actions import do_update_conversation
from threadline.conversations.models import Conversation
from threadline.events.models import OutboxEvent
from threadline.realtime import presence
from threadline.realtime.testkit import agent_socket, in_worker_thread, realtime, receive_until, session_for  # noqa: F401
from threadline.testing import factories

pytestmark = pytest.mark.usefixtures("realtime")


@pytest.fixture
def conversation(transactional_db, admin, client):
    channel = factories.make_api_channel(admin)
    body, headers = factories.signed_body(channel, {"message_id": "m-1", "sender": {"kind": "email",
                                                    "address": "dana@example.com", "name": "Dana Levi"},
                                                    "text": "Where is my order?"})
    assert client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers).status_code == 202
    from threadline.jobs.worker import Worker

    Worker(worker_id="test:rt").run_until_idle(100)
    return Conversation.objects.get()


def change_status(conversation_id: int, status: str) -> int:
    with transaction.atomic():
        conversation = Conversation.objects.get(pk=conversation_id)
        do_update_conversation(None, conversation, status=status)
    return OutboxEvent.objects.filter(type="conversation.updated").latest("pk").pk


def test_an_event_committed_in_the_worker_thread_reaches_the_socket(conversation, admin, client):
    session = session_for(client, admin.user)

    async def scenario():
        socket = agent_socket(session)
        connected, _ = await socket.connect()
        assert connected
        welcome = await socket.receive_json_from()
        assert welcome == {"type": "welcome", "membership_id": admin.pk, "status": "online"}
        outbox_id = await in_worker_thread(lambda: change_status(conversation.pk, "pending"))
        event = await receive_until(socket, lambda m: m["type"] == "event")
        assert event["id"] == outbox_id
        assert event["event"] == "conversation.updated"
        assert event["payload"]["conversation_id"] == conversation.pk
        assert event["payload"]["changes"] == {"status": "pending"}
        await socket.disconnect()

    async_to_sync(scenario)()


def test_a_reconnecting_socket_replays_what_it_missed(conversation, admin, client):
    session = session_for(client, admin.user)
    seen = change_status(conversation.pk, "pending")
    missed = [change_status(conversation.pk, status) for status in ("on_hold", "open")]
    other = factories.make_workspace("Elsewhere")
    with transaction.atomic():
        factories.make_api_channel(other)  # another workspace's rows never replay here

    async def scenario():
        socket = agent_socket(session)
        await socket.connect()
        await socket.receive_json_from()
        await socket.send_json_to({"type": "hello", "last_event_id": seen})
        replayed = []
        while True:
            message = await socket.receive_json_from()
            if message["type"] == "caught_up":
                break
            if message["type"] == "event":
                replayed.append(message)
        await socket.disconnect()
        return replayed, message

    replayed, done = async_to_sync(scenario)()
    ids = [m["id"] for m in replayed]
    assert ids == sorted(ids)
    assert set(missed) <= set(ids)  # overlap may repeat older ids; the client drops those
    assert all(m["replayed"] for m in replayed)
    assert {m["payload"]["workspace_id"] for m in replayed} == {admin.workspace_id}
    assert done["last_event_id"] == missed[-1]
    assert [m["payload"]["changes"]["status"] for m in replayed if m["id"] in missed] == ["on_hold", "open"]


def test_only_signed_in_agents_from_our_origin_connect(conversation, admin, client):
    session = session_for(client, admin.user)

    async def scenario():
        anonymous = agent_socket("not-a-session")
        assert (await anonymous.connect())[0] is False
        foreign = agent_socket(session, origin=b"https://evil.example")
        assert (await foreign.connect())[0] is False
        own = agent_socket(session)
        assert (await own.connect())[0] is True
        await own.disconnect()

    async_to_sync(scenario)()


def test_viewers_typing_and_presence_are_shared(conversation, admin, client):
    bob = factories.make_agent(admin, "bob@example.com")
    bob.user.name = "Bob Builder"
    bob.user.save()
    first, second = session_for(client, admin.user), session_for(client.__class__(), bob.user)

    async def scenario():
        ada, other = agent_socket(first), agent_socket(second)
        await ada.connect()
        await ada.receive_json_from()
        await other.connect()
        await other.receive_json_from()
        presence_seen = await receive_until(ada, lambda m: m["type"] == "presence" and m["membership_id"] == bob.pk)
        assert presence_seen["status"] == "online"
        await ada.send_json_to({"type": "view", "conversation_id": conversation.pk})
        await receive_until(ada, lambda m: m["type"] == "viewers")
        await other.send_json_to({"type": "view", "conversation_id": conversation.pk})
        both = await receive_until(ada, lambda m: m["type"] == "viewers" and len(m["viewers"]) == 2)
        assert [v["name"] for v in both["viewers"]] == ["Ada Admin", "Bob Builder"]
        await other.send_json_to({"type": "typing", "conversation_id": conversation.pk, "typing": True})
        typing = await receive_until(ada, lambda m: m["type"] == "viewers" and any(v["typing"] for v in m["viewers"]))
        assert [v["membership_id"] for v in typing["viewers"] if v["typing"]] == [bob.pk]
        await other.send_json_to({"type": "view", "conversation_id": 10**9})  # not visible: ignored
        await other.disconnect()
        gone = await receive_until(ada, lambda m: m["type"] == "presence" and m["membership_id"] == bob.pk)
        assert gone["status"] == "offline"
        left = await sync_to_async(presence.viewers)(conversation.pk)
        assert [v["membership_id"] for v in left] == [admin.pk]
        await ada.disconnect()

    async_to_sync(scenario)()
    assert presence.agent_status(admin.pk) == "offline"


def test_an_agent_of_another_workspace_cannot_view_or_hear(conversation, admin, client):
    stranger = factories.make_workspace("Other Co")
    session = session_for(client, stranger.user)

    async def scenario():
        socket = agent_socket(session)
        await socket.connect()
        await socket.receive_json_from()
        await receive_until(socket, lambda m: m["type"] == "presence")  # its own arrival
        await socket.send_json_to({"type": "view", "conversation_id": conversation.pk})
        await in_worker_thread(lambda: change_status(conversation.pk, "pending"))
        assert await socket.receive_nothing(1.0)
        await socket.disconnect()

    async_to_sync(scenario)()

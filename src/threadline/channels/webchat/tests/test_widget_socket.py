"""The widget's socket: a visitor's message is stored and reaches the agents at once; the agent's reply,
delivered by the worker thread, reaches the visitor's open tabs; typing and read receipts go both ways."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction

from threadline.channels.webchat.testkit import Widget, make_webchat_channel, socket_path
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, DeliveryStatus, Message
from threadline.jobs.worker import Worker
from threadline.realtime.testkit import (  # noqa: F401
    WebsocketCommunicator,
    agent_socket,
    application,
    in_worker_thread,
    realtime,
    receive_until,
    session_for,
)

pytestmark = pytest.mark.usefixtures("realtime")


def reply_and_deliver(admin_pk: int, text: str) -> int:
    """As an agent's request then the embedded worker would: store the reply, then deliver it."""
    from threadline.tenancy.models import Membership

    with transaction.atomic():
        message = do_send_reply(Membership.objects.get(pk=admin_pk), Conversation.objects.get(), text)
    Worker(worker_id="test:widget").run_until_idle(50)
    return message.pk


def test_visitor_and_agent_talk_live(transactional_db, admin, client):
    channel = make_webchat_channel(admin)
    token = Widget(client, channel).start().token
    session = session_for(client, admin.user)

    async def scenario():
        agent = agent_socket(session)
        await agent.connect()
        await receive_until(agent, lambda m: m["type"] == "welcome")
        tab, other_tab = (WebsocketCommunicator(application(), socket_path(channel, token)) for _ in range(2))
        assert (await tab.connect())[0] and (await other_tab.connect())[0]
        welcome = await tab.receive_json_from()
        assert welcome == {"type": "welcome", "agents_available": True, "conversation_id": None}
        await other_tab.receive_json_from()

        await tab.send_json_to({"type": "message", "client_id": "m-1", "text": "Is anyone there?"})
        ack = await receive_until(tab, lambda m: m["type"] == "ack")
        assert ack["client_id"] == "m-1" and ack["message"]["text"] == "Is anyone there?"
        event = await receive_until(agent, lambda m: m["type"] == "event" and m["event"] == "message.received")
        assert event["payload"]["text"] == "Is anyone there?"
        conversation_id = event["payload"]["conversation_id"]

        # the other tab is not in the contact's group until it reconnects as that contact
        await other_tab.disconnect()
        other_tab = WebsocketCommunicator(application(), socket_path(channel, token))
        await other_tab.connect()
        await other_tab.receive_json_from()

        await agent.send_json_to({"type": "view", "conversation_id": conversation_id})
        await receive_until(agent, lambda m: m["type"] == "viewers")
        await tab.send_json_to({"type": "typing", "typing": True})
        typing = await receive_until(agent, lambda m: m["type"] == "customer_typing")
        assert typing == {"type": "customer_typing", "conversation_id": conversation_id, "typing": True}
        await agent.send_json_to({"type": "typing", "conversation_id": conversation_id, "typing": True})
        assert (await receive_until(tab, lambda m: m["type"] == "typing")) == {"type": "typing", "typing": True,
                                                                               "name": "Ada"}
        await agent.send_json_to({"type": "typing", "conversation_id": conversation_id, "typing": True,
                                  "internal": True})  # writing a note: the customer is not told
        assert await tab.receive_nothing(0.5)

        reply_id = await in_worker_thread(lambda: reply_and_deliver(admin.pk, "Yes! How can I help?"))
        for socket in (tab, other_tab):
            pushed = await receive_until(socket, lambda m: m["type"] == "message")
            assert pushed["message"]["id"] == reply_id and pushed["message"]["text"] == "Yes! How can I help?"

        await tab.send_json_to({"type": "receipt", "status": "read", "up_to": reply_id})
        status = await receive_until(agent, lambda m: m["type"] == "event" and m["event"] == "message.status_changed"
                                     and m["payload"]["status"] == "read")
        assert status["payload"]["message_id"] == reply_id
        await agent.send_json_to({"type": "read", "conversation_id": conversation_id, "message_id": ack["message"]["id"]})
        assert (await receive_until(tab, lambda m: m["type"] == "read"))["up_to"] == ack["message"]["id"]
        for socket in (tab, other_tab, agent):
            await socket.disconnect()

    async_to_sync(scenario)()
    reply = Message.objects.get(direction="out")
    assert reply.status == DeliveryStatus.READ
    assert reply.provider_message_id == f"webchat-{reply.pk}"


def test_a_socket_without_a_valid_token_is_refused(transactional_db, admin, client):
    channel = make_webchat_channel(admin)
    token = Widget(client, channel).start().token

    async def scenario():
        for path in (socket_path(channel, "forged.token"), f"/ws/webchat/{channel.pk + 1}/?token={token}"):
            assert (await WebsocketCommunicator(application(), path).connect())[0] is False

    async_to_sync(scenario)()


def test_a_burst_of_messages_is_rate_limited(transactional_db, admin, client, settings):
    channel = make_webchat_channel(admin)
    token = Widget(client, channel).start().token

    async def scenario():
        tab = WebsocketCommunicator(application(), socket_path(channel, token))
        await tab.connect()
        await tab.receive_json_from()
        answers = []
        for n in range(32):
            await tab.send_json_to({"type": "message", "client_id": f"m-{n}", "text": f"spam {n}"})
            answers.append(await receive_until(tab, lambda m: m["type"] in ("ack", "error")))
        await tab.disconnect()
        return answers

    answers = async_to_sync(scenario)()
    assert [a["type"] for a in answers].count("ack") == 30
    assert answers[-1]["code"] == "rate_limited"
    assert Message.objects.count() == 30

"""Issue 10, hole 7 (sockets): an open agent socket does not outlive what authenticated it. Sign-out,
deactivation and a new password close it (4401); a heartbeat after any of them does too."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction

from threadline.realtime.testkit import (  # noqa: F401
    agent_socket,
    close_code,
    in_worker_thread,
    open_socket,
    realtime,
    receive_until,
    session_for,
)
from threadline.tenancy.actions import do_create_setup_link, do_update_agent
from threadline.tenancy.models import Membership, User
from threadline.testing import factories

pytestmark = pytest.mark.usefixtures("realtime")

NEW_PASSWORD = "orchid-lantern-47-quietly"


@pytest.fixture
def agent(transactional_db, admin):
    return factories.make_agent(admin, "bob@acme.example")


def test_signing_out_closes_the_sockets_of_that_session(agent, client, django_user_model):
    from django.test import Client

    session = session_for(client, agent.user)
    other_tab = Client()
    other_session = session_for(other_tab, agent.user)

    async def scenario():
        socket, other = await open_socket(session), await open_socket(other_session)
        assert (await sync_to_async(client.post)("/logout")).status_code == 302
        assert await close_code(socket) == 4401
        await other.send_json_to({"type": "ping"})  # another sign-in of the same person stays open
        assert (await receive_until(other, lambda m: m["type"] in ("pong", "closed")))["type"] == "pong"
        await other.disconnect()

    async_to_sync(scenario)()


def test_deactivating_an_agent_closes_their_sockets(agent, client):
    session = session_for(client, agent.user)

    def deactivate() -> None:
        with transaction.atomic():
            do_update_agent(Membership.objects.get(pk=agent.pk), is_active=False)

    async def scenario():
        socket = await open_socket(session)
        await in_worker_thread(deactivate)
        assert await close_code(socket) == 4401

    async_to_sync(scenario)()


def test_a_new_password_closes_the_persons_sockets(agent, client):
    session = session_for(client, agent.user)
    with transaction.atomic():
        raw = do_create_setup_link(agent.user)

    async def scenario():
        socket = await open_socket(session)
        from django.test import Client

        answer = await sync_to_async(Client().post)(f"/setup/{raw}/", {"password": NEW_PASSWORD,
                                                                        "confirm": NEW_PASSWORD})
        assert answer.status_code in (200, 302), answer.content[:300]
        assert await close_code(socket) == 4401

    async_to_sync(scenario)()


def test_a_heartbeat_after_a_password_change_elsewhere_closes_the_socket(agent, client):
    session = session_for(client, agent.user)

    def change_password() -> None:  # whatever code path changed it, without telling the sockets
        user = User.objects.get(pk=agent.user_id)
        user.set_password(NEW_PASSWORD)
        user.save(update_fields=["password"])

    async def scenario():
        socket = await open_socket(session)
        await socket.send_json_to({"type": "ping"})
        assert (await receive_until(socket, lambda m: m["type"] == "pong"))["type"] == "pong"
        await in_worker_thread(change_password)
        await socket.send_json_to({"type": "ping"})
        assert await close_code(socket) == 4401

    async_to_sync(scenario)()

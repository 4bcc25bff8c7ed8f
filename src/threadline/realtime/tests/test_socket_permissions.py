"""The agent socket carries conversations and contacts: a member whose role does not grant
`conversations.view` is refused (4403); a custom role that grants it connects like an agent."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from threadline.realtime.testkit import agent_socket, realtime, session_for  # noqa: F401
from threadline.tenancy.permissions import Permission
from threadline.testing import factories

pytestmark = pytest.mark.usefixtures("realtime")


def _connect(session: str) -> tuple[bool, object]:
    async def scenario():
        socket = agent_socket(session)
        answer = await socket.connect()
        await socket.disconnect()
        return answer

    return async_to_sync(scenario)()


def test_a_member_without_conversations_view_cannot_open_the_socket(transactional_db, admin, client):
    nothing = factories.make_role_member(admin, "nil@acme.example", [Permission.ADMIN_ROUTING])
    assert _connect(session_for(client, nothing.user)) == (False, 4403)


def test_a_custom_role_that_grants_view_connects(transactional_db, admin, client):
    reader = factories.make_role_member(admin, "rea@acme.example", [Permission.VIEW])
    connected, _ = _connect(session_for(client, reader.user))
    assert connected

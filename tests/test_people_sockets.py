"""Open agent sockets end with what authenticated them: a password change in /app/settings, an admin's forced
password reset and a second-factor reset each close the person's sockets (4401), and a heartbeat afterwards
is refused too (the session hash no longer matches)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client

from threadline.realtime.testkit import (  # noqa: F401
    agent_socket,
    close_code,
    open_socket,
    realtime,
    session_for,
)
from threadline.tenancy.signin import SESSION_FACTOR, TOTP
from threadline.testing import factories

pytestmark = pytest.mark.usefixtures("realtime")

NEW_PASSWORD = "orchid-lantern-47-quietly"


@pytest.fixture
def agent(transactional_db, admin):
    member = factories.make_agent(admin, "bob@acme.example")
    member.user.set_password(factories.PASSWORD)
    member.user.save()
    return member


def test_changing_the_password_closes_the_other_sockets(agent):
    tab, other_tab = Client(), Client()
    other_session = session_for(other_tab, agent.user)
    tab.force_login(agent.user)

    async def scenario():
        socket = await open_socket(other_session)
        answer = await sync_to_async(tab.post)("/app/x/password", {
            "current": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert answer.status_code == 302
        assert await close_code(socket) == 4401

    async_to_sync(scenario)()


@pytest.mark.parametrize("operation", ["force-reset", "reset-2fa"])
def test_an_admins_reset_closes_the_persons_sockets(agent, admin, operation):
    from django.db import transaction

    from threadline.web.actions import do_start_totp, do_verify_totp
    from threadline.web.models import TotpDevice

    if operation == "reset-2fa":
        import pyotp

        with transaction.atomic():
            totp = pyotp.TOTP(do_start_totp(agent.user))
            do_verify_totp(TotpDevice.objects.get(user=agent.user), totp.now())
    agents_tab = Client()
    session = session_for(agents_tab, agent.user)
    if operation == "reset-2fa":  # a session that passed the code, as a real sign-in would have
        store = agents_tab.session
        store[SESSION_FACTOR] = TOTP
        store.save()
    admins_tab = Client()
    admins_tab.force_login(admin.user)

    async def scenario():
        socket = await open_socket(session)
        answer = await sync_to_async(admins_tab.post)(f"/app/admin/people/{agent.pk}/{operation}")
        assert answer.status_code == 302
        assert await close_code(socket) == 4401
        assert (await sync_to_async(agents_tab.get)("/app/")).status_code == 302  # the session ended too

    async_to_sync(scenario)()

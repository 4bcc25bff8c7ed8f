"""One sign-in flow with the second factor enforced everywhere, and throttles that lock out the guesser, not
the account: back-off per (account, client address), X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

import datetime as dt
import io

import pyotp
import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.db import transaction

from threadline.core.management.commands.serve import proxy_options
from threadline.core.throttle import BASE_DELAY
from threadline.realtime.testkit import agent_socket, realtime  # noqa: F401
from threadline.tenancy.models import Membership
from threadline.testing import factories
from threadline.testing.factories import PASSWORD
from threadline.web.actions import do_start_totp, do_verify_totp, totp_secret
from threadline.web.models import TotpDevice

pytestmark = pytest.mark.usefixtures("realtime")

ATTACKER = "203.0.113.9"
COLLEAGUE = "198.51.100.7"
PROXY = "10.0.0.2"


def enrol_totp(user) -> pyotp.TOTP:
    """The agent turned two-factor sign-in on (through the same actions as the settings page)."""
    with transaction.atomic():
        totp = pyotp.TOTP(do_start_totp(user))
        device = TotpDevice.objects.get(user=user)
        with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5), tick=False):
            do_verify_totp(device, totp.now())
    return totp


def sign_in(client, email, password=PASSWORD, address=ATTACKER, **headers):
    return client.post("/login", {"email": email, "password": password, "next": "/app/"},
                       REMOTE_ADDR=address, **headers)


@pytest.fixture
def workspace_admin(db):
    """A workspace admin made the way the report did it: `threadline createadmin`."""
    call_command("createadmin", "--email", "boss@beta.example", "--password", PASSWORD, "--workspace", "Beta",
                 stdout=io.StringIO())
    return Membership.objects.get(user__email="boss@beta.example")


# ── hole 3: the second factor cannot be skipped ─────────────────────────────────────────────────────
def test_the_django_admin_login_does_not_skip_the_second_factor(client, workspace_admin):
    enrol_totp(workspace_admin.user)
    page = client.get("/admin/login/?next=/admin/")
    assert page.status_code == 302 and page["Location"].startswith("/login")
    client.post("/admin/login/", {"username": workspace_admin.user.email, "password": PASSWORD,
                                  "next": "/app/"})
    assert client.get("/app/").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_a_session_that_skipped_the_second_factor_opens_nothing(transactional_db, client, workspace_admin):
    enrol_totp(workspace_admin.user)
    client.force_login(workspace_admin.user)  # a session made by anything but the one sign-in flow
    assert client.get("/app/").status_code == 302
    assert client.get("/app/x/counts", HTTP_X_REQUESTED_WITH="fetch").status_code == 401
    assert client.get("/app/settings").status_code == 302
    session = client.cookies["sessionid"].value

    async def socket_refused() -> None:
        socket = agent_socket(session)
        connected, code = await socket.connect()
        assert (connected, code) == (False, 4401)

    async_to_sync(socket_refused)()


def test_enrolling_an_authenticator_shuts_out_password_only_sessions(client, workspace_admin):
    from django.test import Client

    stolen = Client()
    assert sign_in(stolen, workspace_admin.user.email, address=ATTACKER).status_code == 302
    assert stolen.get("/app/").status_code == 200
    assert sign_in(client, workspace_admin.user.email, address=COLLEAGUE).status_code == 302
    client.post("/app/settings", {"totp": "start"}, REMOTE_ADDR=COLLEAGUE)
    totp = pyotp.TOTP(totp_secret(workspace_admin.user.totp_device))
    confirmed = client.post("/app/settings", {"totp": "confirm", "code": totp.now()}, REMOTE_ADDR=COLLEAGUE)
    assert b"Two-factor sign-in is on." in confirmed.content
    assert client.get("/app/").status_code == 200  # the session that proved the code stays in
    assert stolen.get("/app/").status_code == 302  # the password-only one is out


def test_the_operator_admin_refuses_a_session_without_the_operators_second_factor(client, db):
    call_command("createsuperuser", "--email", "ops@example.net", "--password", PASSWORD, stdout=io.StringIO())
    from threadline.tenancy.models import User

    operator = User.objects.get(email="ops@example.net")
    totp = enrol_totp(operator)
    client.force_login(operator)
    assert client.get("/admin/").status_code == 302
    client.logout()
    assert sign_in(client, "ops@example.net", address=COLLEAGUE)["Location"].startswith("/login/verify")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31), tick=False):
        verified = client.post("/login/verify", {"code": totp.now(), "next": "/admin/"}, REMOTE_ADDR=COLLEAGUE)
    assert verified.status_code == 302 and verified["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# ── hole 4: throttles that lock out the guesser, not the account ─────────────────────────────────────
def test_a_guesser_is_locked_out_while_the_real_user_signs_in_from_elsewhere(client, admin):
    from django.test import Client

    attacker = Client()
    for _ in range(10):
        sign_in(attacker, admin.user.email, "wrong-password-1234", address=ATTACKER)
    refused = sign_in(attacker, admin.user.email, address=ATTACKER)  # even the right password is not tried
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert sign_in(client, admin.user.email, address=COLLEAGUE).status_code == 302
    assert client.get("/app/").status_code == 200


def test_the_back_off_doubles(client, admin):
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            assert sign_in(client, admin.user.email, "wrong-password-1234").status_code == 400
        first = sign_in(client, admin.user.email)
        assert first.status_code == 429 and int(first["Retry-After"]) == BASE_DELAY
        clock.shift(BASE_DELAY + 1)
        assert sign_in(client, admin.user.email, "wrong-password-1234").status_code == 400
        second = sign_in(client, admin.user.email)
        assert second.status_code == 429 and int(second["Retry-After"]) == 2 * BASE_DELAY
        clock.shift(BASE_DELAY + 1)
        assert sign_in(client, admin.user.email).status_code == 429  # still waiting out the doubled delay
        clock.shift(BASE_DELAY + 1)
        assert sign_in(client, admin.user.email).status_code == 302  # and a success clears the record


def test_the_second_factor_step_is_throttled_per_account_and_client(client, admin):
    totp = enrol_totp(admin.user)
    assert sign_in(client, admin.user.email)["Location"].startswith("/login/verify")
    for _ in range(5):
        assert client.post("/login/verify", {"code": "000000"}, REMOTE_ADDR=ATTACKER).status_code == 400
    locked = client.post("/login/verify", {"code": totp.now()}, REMOTE_ADDR=ATTACKER)
    assert locked.status_code == 429 and int(locked["Retry-After"]) == BASE_DELAY


def test_guessing_setup_links_is_throttled(client, db):
    lines = io.StringIO()
    call_command("createadmin", "--email", "new@example.com", stdout=lines)
    link = "/" + lines.getvalue().split("Set the password once at: ", 1)[1].split(" ", 1)[0].split("/", 3)[3]
    for guess in range(5):
        assert client.get(f"/setup/guess-{guess}/", REMOTE_ADDR=ATTACKER).status_code == 404
    assert client.get(link, REMOTE_ADDR=ATTACKER).status_code == 429
    assert client.get(link, REMOTE_ADDR=COLLEAGUE).status_code == 200


def test_x_forwarded_for_is_ignored_unless_a_trusted_proxy_sent_it(client, admin, settings):
    for n in range(10):  # a new made-up address in every attempt
        sign_in(client, admin.user.email, "wrong-password-1234", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert sign_in(client, admin.user.email, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_behind_a_trusted_proxy_the_client_is_the_proxys_last_hop(client, admin, settings):
    settings.THREADLINE = {**settings.THREADLINE, "TRUSTED_PROXIES": ["10.0.0.0/8"]}
    for n in range(10):  # the attacker forges the left part; the proxy appends what it saw
        sign_in(client, admin.user.email, "wrong-password-1234", address=PROXY,
                HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER}")
    assert sign_in(client, admin.user.email, address=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    # the real user behind the same load balancer is not locked out
    assert sign_in(client, admin.user.email, address=PROXY, HTTP_X_FORWARDED_FOR=COLLEAGUE).status_code == 302


def test_serve_hands_uvicorn_only_the_trusted_proxies(settings):
    settings.THREADLINE = {**settings.THREADLINE, "TRUSTED_PROXIES": []}
    assert proxy_options() == {"proxy_headers": False}  # uvicorn would otherwise trust loopback
    settings.THREADLINE = {**settings.THREADLINE, "TRUSTED_PROXIES": ["10.0.0.0/8", "192.0.2.1/32"]}
    assert proxy_options() == {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.0/8", "192.0.2.1/32"]}


def test_an_agent_of_a_second_workspace_uses_the_same_throttle(client, admin):
    other = factories.make_workspace("Other Co")
    for _ in range(10):
        sign_in(client, other.user.email, "wrong-password-1234")
    assert sign_in(client, other.user.email).status_code == 429
    assert sign_in(client, admin.user.email).status_code == 302  # another account from the same address


def test_an_address_spraying_many_accounts_is_backed_off_alone(client, admin):
    from django.test import Client

    from threadline.core.throttle import SPRAY

    sprayer = Client()
    for n in range(SPRAY.free):  # one guess per account never trips the per-account lock
        assert sign_in(sprayer, f"user{n}@example.com", "Summer2026!", address=ATTACKER).status_code == 400
    assert sign_in(sprayer, admin.user.email, address=ATTACKER).status_code == 429
    assert sign_in(client, admin.user.email, address=COLLEAGUE).status_code == 302

"""Sign-in with a password and, when the agent turned it on, a TOTP code; language and time zone per agent."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
import time_machine
from django.db import transaction

from threadline.testing.factories import PASSWORD
from threadline.web.actions import totp_secret
from threadline.web.models import TotpDevice


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/login", {"email": email, "password": password, "next": "/app/?view=mine", **extra})


def test_the_workspace_needs_a_signed_in_agent(client, admin):
    response = client.get("/app/c/1/")
    assert response.status_code == 302 and response["Location"] == "/login?next=/app/c/1/"
    assert client.get("/app/x/counts", HTTP_X_REQUESTED_WITH="fetch").status_code == 401


def test_password_sign_in_and_a_wrong_password(client, admin):
    wrong = sign_in(client, admin.user.email, "not-the-password")
    assert wrong.status_code == 400
    assert b"The email or password is not right." in wrong.content
    right = sign_in(client, admin.user.email.upper())
    assert right.status_code == 302 and right["Location"] == "/app/?view=mine"
    assert client.get("/app/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/app/").status_code == 302


def test_an_open_redirect_is_not_followed(client, admin):
    response = sign_in(client, admin.user.email, next="https://evil.example/")
    assert response["Location"] == "/app/"


def test_repeated_failures_are_throttled(client, admin):
    for _ in range(10):
        sign_in(client, admin.user.email, "nope")
    assert sign_in(client, admin.user.email).status_code == 429


def test_totp_two_factor_sign_in(client, admin):
    client.force_login(admin.user)
    client.post("/app/settings", {"totp": "start"})
    device = TotpDevice.objects.get(user=admin.user)
    assert device.confirmed_at is None
    totp = pyotp.TOTP(totp_secret(device))
    page = client.get("/app/settings")
    assert totp_secret(device).encode() in page.content
    assert b"That code is not valid" in client.post("/app/settings", {"totp": "confirm", "code": "000000"}).content
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2), tick=False):
        old_code = totp.now()
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False):
        confirmed = client.post("/app/settings", {"totp": "confirm", "code": totp.now()})
    assert b"Two-factor sign-in is on." in confirmed.content
    client.post("/logout")

    first_step = sign_in(client, admin.user.email)
    assert first_step.status_code == 302 and first_step["Location"].startswith("/login/verify")
    assert client.get("/app/").status_code == 302  # not signed in before the code
    assert client.post("/login/verify", {"code": old_code}).status_code == 400
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31), tick=False):
        code = totp.now()
        assert client.post("/login/verify", {"code": code, "next": "/app/"}).status_code == 302
    assert client.get("/app/").status_code == 200
    client.post("/logout")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31), tick=False):
        sign_in(client, admin.user.email)
        replay = client.post("/login/verify", {"code": code})  # the same code never signs in twice
    assert replay.status_code == 400
    assert client.get("/app/").status_code == 302


def test_language_and_time_zone_follow_the_agent(client, admin):
    client.force_login(admin.user)
    assert b'<html lang="en" dir="ltr">' in client.get("/app/").content
    response = client.post("/app/x/preferences", {"language": "he", "time_zone": "Asia/Jerusalem"})
    assert response.cookies["django_language"].value == "he"
    admin.user.refresh_from_db()
    assert (admin.user.language, admin.user.time_zone) == ("he", "Asia/Jerusalem")
    page = client.get("/app/").content.decode()
    assert '<html lang="he" dir="rtl">' in page
    assert '"time_zone": "Asia/Jerusalem"' in page
    bad = client.post("/app/x/preferences", {"time_zone": "Mars/Olympus"}, HTTP_X_REQUESTED_WITH="fetch")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_time_zone"


@pytest.mark.parametrize("language", ["he", "fa", "th", "cs"])
def test_every_language_has_its_own_strings(client, admin, language):
    with transaction.atomic():
        admin.user.language = language
        admin.user.save()
    client.force_login(admin.user)
    page = client.get("/app/").content.decode()
    for english in ("Unassigned", "Sign out", "Saved views", "Keyboard shortcuts"):
        assert english not in page, f"{english!r} is not translated to {language}"


def test_the_workspace_switched_to_last_is_where_the_next_sign_in_opens(client, admin):
    from threadline.realtime.auth import membership_for
    from threadline.tenancy.actions import do_add_agent, do_create_workspace

    with transaction.atomic():
        other = do_create_workspace("Second Co")
        do_add_agent(other, admin.user.email, role="admin")
    assert sign_in(client, admin.user.email).status_code == 302
    assert membership_for(admin.user, None).workspace_id == admin.workspace_id  # the first one at first
    assert client.post("/app/x/workspace", {"workspace": other.pk}).status_code == 302
    client.post("/logout")
    admin.user.refresh_from_db()
    assert membership_for(admin.user, None).workspace_id == other.pk
    assert sign_in(client, admin.user.email).status_code == 302
    assert client.get("/app/x/counts", HTTP_X_REQUESTED_WITH="fetch").status_code == 200
    assert client.session.get("workspace_id") is None  # a new session: the default workspace decided

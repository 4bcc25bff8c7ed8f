"""Passwords: changing one's own (other sessions end), a reset by email link delivered over a real SMTP server
(the answer is the same for unknown addresses; links are one-time, expire, and are throttled; a second factor
is still asked for), and an admin's forced reset (sessions end; the next sign-in must choose a new password)."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
from django.db import transaction
from django.test import Client

from threadline.audit.models import AuditEntry
from threadline.tenancy.models import LinkPurpose, SetupLink
from threadline.tenancy.passwords import do_issue_reset_link
from threadline.testing.factories import PASSWORD, make_agent
from threadline.testing.mailbox import link_in, wait_for_mail
from threadline.web.actions import do_start_totp, do_verify_totp
from threadline.web.models import TotpDevice

NEW = "plum-orchard-velvet-42"


def sign_in(client, email, password=PASSWORD):
    return client.post("/login", {"email": email, "password": password, "next": "/app/"})


def with_totp(user) -> pyotp.TOTP:
    with transaction.atomic():
        totp = pyotp.TOTP(do_start_totp(user))
        # enrolled with the previous step's code, so the current one is still unused for the sign-in
        do_verify_totp(TotpDevice.objects.get(user=user), totp.at(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)))
    return totp


def without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrf-token" content="[^"]*"', b"", content)


def signed_in(client) -> bool:
    return client.get("/app/").status_code == 200


# ── change ───────────────────────────────────────────────────────────────────────────────────────────
def test_changing_the_password_keeps_this_session_and_ends_the_others(client, admin):
    other = Client()
    assert sign_in(client, admin.user.email).status_code == 302
    assert sign_in(other, admin.user.email).status_code == 302
    assert signed_in(other)
    page = client.get("/app/settings")
    assert b'action="/app/x/password"' in page.content

    wrong = client.post("/app/x/password", {"current": "nope", "password": NEW, "confirm": NEW}, follow=True)
    assert "Your current password is not right." in wrong.content.decode()
    like_email = admin.user.email + "1"
    similar = client.post("/app/x/password", {"current": PASSWORD, "password": like_email, "confirm": like_email},
                          follow=True)
    assert "too similar" in similar.content.decode()
    admin.user.refresh_from_db()
    assert admin.user.check_password(PASSWORD)

    done = client.post("/app/x/password", {"current": PASSWORD, "password": NEW, "confirm": NEW}, follow=True)
    assert "Your password is changed" in done.content.decode()
    admin.user.refresh_from_db()
    assert admin.user.check_password(NEW)
    assert signed_in(client)
    assert not signed_in(other)
    assert AuditEntry.objects.filter(action="password.changed", actor_user=admin.user).exists()


def test_wrong_current_passwords_are_throttled(client, admin):
    client.force_login(admin.user)
    for _ in range(5):
        client.post("/app/x/password", {"current": "nope", "password": NEW, "confirm": NEW})
    throttled = client.post("/app/x/password", {"current": PASSWORD, "password": NEW, "confirm": NEW})
    assert throttled.status_code == 429
    admin.user.refresh_from_db()
    assert admin.user.check_password(PASSWORD)


# ── reset by email ───────────────────────────────────────────────────────────────────────────────────
def test_reset_by_email_link_over_smtp(client, admin, system_mail):
    page = client.get("/login")
    assert b'href="/login/reset"' in page.content
    asked = client.post("/login/reset", {"email": admin.user.email.upper()})
    assert asked.status_code == 200
    unknown = Client().post("/login/reset", {"email": "nobody@nowhere.example"})
    assert unknown.status_code == 200 and without_csrf(unknown.content) == without_csrf(asked.content)  # the same answer either way

    message = wait_for_mail(system_mail)[0]
    assert message.rcpt_tos == [admin.user.email]
    path = link_in(message, "login/reset")
    raw = path.rsplit("/", 1)[1]
    assert not SetupLink.objects.filter(digest=raw).exists()  # only the digest is stored

    form = client.get(path)
    assert form.status_code == 200 and form["Referrer-Policy"] == "same-origin"
    mismatch = client.post(path, {"password": NEW, "confirm": NEW + "x"})
    assert mismatch.status_code == 400
    done = client.post(path, {"password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done["Location"] == "/app/"
    assert signed_in(client)
    admin.user.refresh_from_db()
    assert admin.user.check_password(NEW)
    assert Client().get(path).status_code == 404  # used once
    assert len(system_mail.handler.received) == 1  # nothing was sent for the unknown address
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"password.reset_requested", "password.reset"} <= actions


def test_a_reset_still_asks_for_the_second_factor(client, admin):
    totp = with_totp(admin.user)
    with transaction.atomic():
        raw = do_issue_reset_link(admin.user)
    done = client.post(f"/login/reset/{raw}", {"password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done["Location"].startswith("/login/verify")
    assert not signed_in(client)
    verified = client.post("/login/verify", {"code": totp.now(), "next": "/app/"})
    assert verified.status_code == 302 and signed_in(client)


def test_expired_and_foreign_links_are_refused(client, admin):
    with transaction.atomic():
        raw = do_issue_reset_link(admin.user)
    SetupLink.objects.filter(purpose=LinkPurpose.RESET).update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert client.get(f"/login/reset/{raw}").status_code == 404
    assert client.post(f"/login/reset/{raw}", {"password": NEW, "confirm": NEW}).status_code == 404
    with transaction.atomic():
        fresh = do_issue_reset_link(admin.user)
    assert client.get(f"/setup/{fresh}/").status_code == 404  # a reset link is not a setup link
    admin.user.refresh_from_db()
    assert admin.user.check_password(PASSWORD)


def test_a_new_reset_link_ends_the_previous_one(client, admin):
    with transaction.atomic():
        first = do_issue_reset_link(admin.user)
        second = do_issue_reset_link(admin.user)
    assert client.get(f"/login/reset/{first}").status_code == 404
    assert client.get(f"/login/reset/{second}").status_code == 200


def test_reset_requests_are_throttled_per_address_and_client(client, admin, system_mail):
    answers = [client.post("/login/reset", {"email": admin.user.email}).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    assert client.post("/login/reset", {"email": "someone.else@example.com"}).status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.9").post("/login/reset", {"email": admin.user.email}).status_code == 200
    wait_for_mail(system_mail)
    assert SetupLink.objects.filter(user=admin.user, purpose=LinkPurpose.RESET).count() == 1  # one a minute


def test_guessing_link_secrets_is_throttled(client, admin):
    answers = [client.get(f"/login/reset/guess{n}").status_code for n in range(6)]
    assert answers == [404] * 5 + [429]


# ── forced reset ─────────────────────────────────────────────────────────────────────────────────────
def test_a_forced_reset_ends_sessions_and_the_next_sign_in_sets_a_new_password(client, admin):
    agent = make_agent(admin, "dana@example.com")
    agent.user.set_password(PASSWORD)
    agent.user.save()
    agents_session = Client()
    assert sign_in(agents_session, agent.user.email).status_code == 302 and signed_in(agents_session)

    client.force_login(admin.user)
    forced = client.post(f"/app/admin/people/{agent.pk}/force-reset", follow=True)
    assert "must choose a new password" in forced.content.decode()
    assert not signed_in(agents_session)
    assert signed_in(client)  # the admin's own session is untouched

    again = Client()
    step = sign_in(again, agent.user.email)
    assert step.status_code == 302 and step["Location"].startswith("/login/new-password")
    assert not signed_in(again)
    same = again.post("/login/new-password", {"password": PASSWORD, "confirm": PASSWORD})
    assert same.status_code == 400
    done = again.post("/login/new-password", {"password": NEW, "confirm": NEW, "next": "/app/"})
    assert done.status_code == 302 and done["Location"] == "/app/"
    assert signed_in(again)
    agent.user.refresh_from_db()
    assert not agent.user.must_change_password and agent.user.check_password(NEW)
    assert AuditEntry.objects.filter(action="password.reset_forced", target_id=str(agent.pk)).exists()


def test_the_new_password_page_needs_a_proved_password(client, admin):
    assert client.get("/login/new-password").status_code == 302

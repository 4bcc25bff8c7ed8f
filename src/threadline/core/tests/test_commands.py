"""The management commands behind `threadline createadmin`, `token create`, `channel create-api`, `doctor`."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from threadline.channels.models import InboundEvent
from threadline.tenancy.models import ApiToken, Membership, Role, User, Workspace
from threadline.testing import factories
from threadline.testing.server import sign

PASSWORD = "orchid-lantern-47-quietly"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createadmin_with_password_in_a_new_workspace(db):
    output = run("createadmin", "--email", "Lead@Example.com", "--password", PASSWORD, "--workspace", "Acme Help")
    assert output == "Admin lead@example.com of workspace 'Acme Help' (acme-help).\n"
    seat = Membership.objects.get(user__email="lead@example.com")
    assert (seat.workspace.name, seat.role) == ("Acme Help", Role.ADMIN)
    assert seat.user.check_password(PASSWORD) and not seat.user.is_staff
    with pytest.raises(CommandError, match="already an agent"):
        run("createadmin", "--email", "lead@example.com", "--workspace", "acme-help")


def test_createadmin_without_password_prints_a_setup_link_for_the_first_workspace(db, client):
    first = factories.make_workspace("First")
    output = run("createadmin", "--email", "second@example.com")
    assert "of workspace 'First'" in output
    link = output.split("Set the password once at: ", 1)[1].split(" ", 1)[0]
    assert not User.objects.get(email="second@example.com").has_usable_password()
    assert client.get("/" + link.split("/", 3)[3]).status_code == 200
    assert Membership.objects.filter(workspace=first.workspace, user__email="second@example.com").exists()
    assert Workspace.objects.count() == 1


def test_createadmin_refuses_a_weak_password(db):
    with pytest.raises(CommandError):
        run("createadmin", "--email", "weak@example.com", "--password", "password")
    assert not User.objects.filter(email="weak@example.com").exists()


def test_token_create_prints_only_the_token_and_needs_a_workspace_when_ambiguous(db, client):
    admin = factories.make_workspace("One")
    raw = run("token", "create", "--email", admin.user.email, "--name", "deploy").strip()
    assert raw.startswith("tl_") and "\n" not in raw
    assert ApiToken.objects.get(membership=admin).name == "deploy"
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.status_code == 200 and me.json()["membership_id"] == admin.pk

    other = factories.make_workspace("Two")
    factories.make_agent(other, admin.user.email)
    with pytest.raises(CommandError, match="several workspaces"):
        run("token", "create", "--email", admin.user.email)
    assert run("token", "create", "--email", admin.user.email, "--workspace", other.workspace.slug).strip()
    with pytest.raises(CommandError, match="No active agent"):
        run("token", "create", "--email", "ghost@example.com")


def test_channel_create_api_prints_what_a_sender_needs(db, client, run_jobs):
    admin = factories.make_workspace("Shop")
    created = json.loads(run("channel", "create-api", "--workspace", admin.workspace.slug, "--name", "Backend"))
    assert created["inbound_url"].endswith(f"/hooks/api/{created['id']}/")
    body = json.dumps({"message_id": "x-1", "sender": {"kind": "email", "address": "a@example.com"},
                       "text": "hello"}).encode()
    answer = client.post(f"/hooks/api/{created['id']}/", body, content_type="application/json",
                         HTTP_X_THREADLINE_SIGNATURE=sign(created["secret"], body))
    assert answer.status_code == 202
    run_jobs()
    assert InboundEvent.objects.get().state == InboundEvent.State.PROCESSED
    with pytest.raises(CommandError, match="No workspace"):
        run("channel", "create-api", "--workspace", "nope")


def test_doctor_passes_on_the_test_database(db):
    output = run("doctor")
    assert "All 9 checks passed." in output
    assert "migrations      ok      all applied" in output


def test_doctor_exits_1_when_a_check_fails(db, settings):
    settings.PUBLIC_URL = "ftp://files.example.com"
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("doctor", stdout=out)
    assert exit_info.value.code == 1
    assert "public URL      FAIL" in out.getvalue()
    assert "1 of 9 checks failed: public URL" in out.getvalue()


# The least each kind needs (as a newcomer would type it): secrets come from CHANNEL_<FIELD> variables.
MINIMAL = {
    "api": ([], {}),
    "email": (["--address", "help@shop.example", "--aliases", "sales@shop.example,info@shop.example"], {}),
    "webchat": (["--title", "Shop chat", "--identity-verification", "false"], {}),
    "whatsapp": (["--phone-number-id", "1029384756"], {"CHANNEL_ACCESS_TOKEN": "EAAG-token-1",
                                                       "CHANNEL_APP_SECRET": "app-secret-1"}),
    "sms": (["--account-sid", "AC123", "--from-number", "+15005550006"], {"CHANNEL_AUTH_TOKEN": "auth-token-1"}),
    "voice": (["--account-sid", "AC123", "--phone-number", "+15005550006"], {"CHANNEL_AUTH_TOKEN": "auth-token-1"}),
    "telegram": ([], {"CHANNEL_BOT_TOKEN": "123456:ABC-DEF1234ghIkl"}),
    "line": ([], {"CHANNEL_CHANNEL_SECRET": "line-secret-1", "CHANNEL_CHANNEL_ACCESS_TOKEN": "line-token-1"}),
    "messenger": (["--page-id", "1122334455"], {"CHANNEL_ACCESS_TOKEN": "EAAG-page-1",
                                                "CHANNEL_APP_SECRET": "app-secret-2"}),
    "instagram": (["--page-id", "17841400000"], {"CHANNEL_ACCESS_TOKEN": "EAAG-ig-1",
                                                 "CHANNEL_APP_SECRET": "app-secret-3"}),
    "wechat": (["--app-id", "wx1234567890", "--token", "wechat-token"], {"CHANNEL_APP_SECRET": "wechat-secret"}),
    "portal": ([], {}),
}


def test_channel_create_makes_every_kind_from_options_and_environment(db, client, monkeypatch):
    from threadline.channels.models import Channel
    from threadline.channels.registry import kinds

    assert sorted(MINIMAL) == sorted(kinds())  # a new kind gets a CLI (and this test) too
    factories.make_workspace("Acme")
    for kind, (args, environ) in MINIMAL.items():
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        answer = json.loads(run("channel", "create", kind, *args))
        for name in environ:
            monkeypatch.delenv(name)
        channel = Channel.objects.get(pk=answer["id"])
        assert (answer["kind"], channel.kind, answer["workspace"]) == (kind, kind, "acme")
        for name, value in environ.items():
            assert channel.config[name.removeprefix("CHANNEL_").lower()] == value
        if kind == "email":
            assert channel.config["aliases"] == ["sales@shop.example", "info@shop.example"]
            assert answer["address"] == "help@shop.example" and "inbound_url" not in answer
        elif kind == "webchat":
            assert channel.config["identity_verification"] is False
            assert f'data-channel="{channel.pk}"' in answer["widget"] and answer["secret"] == channel.config["secret"]
        elif kind == "portal":
            assert answer["portal_url"].endswith("/portal/acme/") and "inbound_url" not in answer
        else:
            assert answer["inbound_url"].endswith(f"/hooks/{kind}/{channel.pk}/")
        if "verify_token" in channel.config:
            assert answer["verify_token"] == channel.config["verify_token"] and len(answer["verify_token"]) >= 16
    telegram = Channel.objects.get(kind="telegram")
    assert json.loads(run("channel", "create", "telegram", "--name", "Bot 2", "--bot-token", "99:flag-wins-env"))
    assert Channel.objects.get(name="Bot 2").config["bot_token"] == "99:flag-wins-env"
    assert telegram.config["secret_token"]


def test_the_printed_verify_token_answers_the_providers_handshake(db, client):
    factories.make_workspace("Acme")
    answer = json.loads(run("channel", "create", "whatsapp", "--phone-number-id", "555", "--access-token",
                            "EAAG-token-2", "--app-secret", "app-secret-9"))
    path = answer["inbound_url"].split("://", 1)[1].split("/", 1)[1]
    reply = client.get(f"/{path}", {"hub.mode": "subscribe", "hub.verify_token": answer["verify_token"],
                                    "hub.challenge": "1158201444"})
    assert (reply.status_code, reply.content) == (200, b"1158201444")


def test_channel_create_refuses_a_bad_config_with_the_field_named(db):
    factories.make_workspace("Acme")
    with pytest.raises(CommandError, match="bot_token"):
        run("channel", "create", "telegram", "--bot-token", "short")
    with pytest.raises(CommandError, match="--config is not valid JSON"):
        run("channel", "create", "email", "--config", "{nope")

"""What the audit log records, from the real entry points (the sign-in form, the API, /app/), and that it
stays append-only."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
import time_machine
from django.contrib.admin.sites import site
from django.db import transaction
from django.test import RequestFactory

from threadline.audit.models import AppendOnly, AuditEntry
from threadline.contacts.actions import do_create_contact
from threadline.testing import factories
from threadline.testing.factories import PASSWORD
from threadline.web.actions import totp_secret
from threadline.web.models import TotpDevice


def entries(workspace_id, action):
    return list(AuditEntry.objects.filter(workspace_id=workspace_id, action=action).order_by("pk"))


def test_sign_in_success_and_failure_at_the_login_form(client, admin):
    other = factories.make_workspace("Second Shop")
    with transaction.atomic():
        factories.make_agent(other, admin.user.email)  # one person, two workspaces: both see the sign-in
    wrong = client.post("/login", {"email": admin.user.email, "password": "guess-1234"},
                        HTTP_USER_AGENT="curl/8.5", REMOTE_ADDR="203.0.113.9")
    assert wrong.status_code == 400
    [failed] = entries(admin.workspace_id, "signin.failed")
    assert failed.actor_kind == "system" and failed.target_id == str(admin.user.pk)
    assert failed.details == {"email": admin.user.email, "reason": "password"}
    assert failed.ip == "203.0.113.9" and failed.user_agent == "curl/8.5"
    assert "guess-1234" not in str(AuditEntry.objects.values_list("details", flat=True))
    client.post("/login", {"email": "nobody@example.com", "password": "x"})
    assert AuditEntry.objects.filter(workspace=None, action="signin.failed",
                                     details__email="nobody@example.com").count() == 1
    assert client.post("/login", {"email": admin.user.email, "password": PASSWORD}).status_code == 302
    for workspace_id in (admin.workspace_id, other.workspace_id):
        [ok] = entries(workspace_id, "signin.succeeded")
        assert ok.actor_kind == "user" and ok.actor_user_id == admin.user.pk
    assert entries(admin.workspace_id, "signin.succeeded")[0].actor_membership_id == admin.pk


def test_two_factor_changes_and_a_wrong_code_at_sign_in(client, admin):
    client.force_login(admin.user)
    client.post("/app/settings", {"totp": "start"})
    device = TotpDevice.objects.get(user=admin.user)
    totp = pyotp.TOTP(totp_secret(device))
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False):
        client.post("/app/settings", {"totp": "confirm", "code": totp.now()})
    assert [e.actor_user_id for e in entries(admin.workspace_id, "2fa.enabled")] == [admin.user.pk]
    client.post("/logout")
    client.post("/login", {"email": admin.user.email, "password": PASSWORD})
    client.post("/login/verify", {"code": "000000"})
    [failed] = entries(admin.workspace_id, "signin.failed")
    assert failed.details["reason"] == "code"
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), tick=False):
        client.post("/login/verify", {"code": totp.now()})
        client.post("/app/settings", {"totp": "disable", "code": totp.at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))})
    assert len(entries(admin.workspace_id, "signin.succeeded")) == 1
    assert len(entries(admin.workspace_id, "2fa.disabled")) == 1


def test_token_creation_first_use_per_day_and_revocation(client, admin):
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        raw = factories.make_token(admin)
        [created] = entries(admin.workspace_id, "token.created")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        for minutes in (0, 2, 30, 300):
            clock.move_to(start + dt.timedelta(minutes=minutes))
            assert client.get("/api/v1/me", **headers).status_code == 200
        assert len(entries(admin.workspace_id, "token.used")) == 1
        clock.move_to(start + dt.timedelta(days=1))
        client.get("/api/v1/me", **headers)
        used = entries(admin.workspace_id, "token.used")
        assert len(used) == 2 and used[0].actor_kind == "token" and used[0].target_id == created.target_id
    from threadline.tenancy.actions import do_revoke_api_token
    from threadline.tenancy.models import ApiToken

    with transaction.atomic():
        do_revoke_api_token(ApiToken.objects.get(pk=created.target_id))
    assert len(entries(admin.workspace_id, "token.revoked")) == 1


def test_role_changes_through_the_api_name_the_token_and_the_address(api, admin):
    agent = factories.make_agent(admin, "ben@example.com")
    added = entries(admin.workspace_id, "agent.added")[-1]  # the first is the admin's own seat
    assert added.target_id == str(agent.pk) and added.details == {"role": "agent"}
    answer = api.patch(f"/api/v1/agents/{agent.pk}", {"role": "admin"}, content_type="application/json",
                       REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="ops-script/1.0")
    assert answer.status_code == 200, answer.content
    [changed] = entries(admin.workspace_id, "agent.updated")
    assert changed.details == {"role": "admin"}
    assert changed.actor_kind == "token" and changed.actor_membership_id == admin.pk
    assert changed.actor_token_id is not None and changed.ip == "198.51.100.7"
    assert changed.user_agent == "ops-script/1.0"


def test_channel_and_webhook_secret_changes_keep_no_secret(api, admin):
    channel = factories.make_api_channel(admin, secret="first-secret-" + "x" * 24)
    assert entries(admin.workspace_id, "channel.created")[0].details == {"kind": "api", "name": "Shop backend"}
    new_secret = "second-secret-" + "y" * 24
    answer = api.patch(f"/api/v1/channels/{channel.pk}", {"config": {"secret": new_secret}},
                       content_type="application/json")
    assert answer.status_code == 200, answer.content
    [changed] = entries(admin.workspace_id, "channel.secret_changed")
    assert changed.details == {"config": ["secret"], "active": None}
    api.patch(f"/api/v1/channels/{channel.pk}", {"name": "Shop"}, content_type="application/json")
    assert len(entries(admin.workspace_id, "channel.updated")) == 1
    hook = api.post("/api/v1/webhooks", {"url": "https://hooks.example.com/in", "event_types": ["*"]},
                    content_type="application/json")
    assert hook.status_code == 201, hook.content
    api.patch(f"/api/v1/webhooks/{hook.json()['id']}", {"secret": "z" * 32}, content_type="application/json")
    api.delete(f"/api/v1/webhooks/{hook.json()['id']}")
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="webhook.").order_by("pk")] == [
        "webhook.created", "webhook.secret_changed", "webhook.deleted"]
    dump = str(list(AuditEntry.objects.values("details", "target_id", "actor_label")))
    assert new_secret not in dump and "first-secret" not in dump and "z" * 32 not in dump


def test_merges_and_unmerges_are_recorded(api, admin):
    with transaction.atomic():
        one = do_create_contact(admin.workspace, name="Dana", actor=admin)
        two = do_create_contact(admin.workspace, name="Dana L", actor=admin)
    merge = api.post(f"/api/v1/contacts/{one.pk}/merge", {"source_id": two.pk}, content_type="application/json")
    assert merge.status_code == 201, merge.content
    [merged] = entries(admin.workspace_id, "contact.merged")
    assert merged.details == {"source_id": two.pk, "target_id": one.pk} and merged.target_type == "merge"
    api.post(f"/api/v1/contacts/merges/{merged.target_id}/unmerge")
    assert len(entries(admin.workspace_id, "contact.unmerged")) == 1


def test_entries_are_append_only(admin):
    entry = AuditEntry.objects.filter(workspace_id=admin.workspace_id).first()
    entry.action = "forged"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    model_admin = site._registry[AuditEntry]
    request = RequestFactory().get("/admin/")
    request.user = admin.user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert AuditEntry.objects.get(pk=entry.pk).action == "agent.added"

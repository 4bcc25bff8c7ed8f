"""The Retention and redaction screen (/app/admin/privacy): redaction on/off and countries with the detectors that
apply, the erasure grace period, retention policies per workspace and per channel previewed (dry run) before they
are saved, and a run now; time is frozen and moved."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.conversations.actions import do_update_conversation
from threadline.conversations.models import Conversation
from threadline.privacy.models import PrivacySettings, RetentionPolicy
from threadline.privacy.tests.builders import write_in
from threadline.tenancy.models import Workspace
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in

URL = "/app/admin/privacy"
T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
CARD = "4242 4242 4242 4242"


def _closed_conversations(admin):
    """Two closed conversations at T0: one on the shop channel, one on the kiosk channel."""
    shop = factories.make_api_channel(admin)
    with transaction.atomic():
        kiosk = do_create_channel(admin, "api", "Kiosk", {"secret": "k" * 32})
    write_in(shop, "shop-1", "cleo@example.com", "my order is late", name="Cleo Closed")
    write_in(kiosk, "kiosk-1", "kim@example.com", "thanks", name="Kim Kiosk")
    with transaction.atomic():
        for conversation in Conversation.objects.all():
            do_update_conversation(admin, conversation, status="closed")
    return shop, kiosk


def test_a_policy_is_previewed_then_saved_then_run(client, admin):
    with time_machine.travel(T0, tick=False) as clock:
        shop, kiosk = _closed_conversations(admin)
        clock.move_to(T0 + dt.timedelta(days=40))
        signed_in(client, admin)
        preview = client.post(f"{URL}/retention", {"kind": "closed_conversations", "channel": "", "days": "30",
                                                   "intent": "preview"})
        html = preview.content.decode()
        assert preview.status_code == 200 and 'id="preview"' in html
        assert '<strong data-kind="closed_conversations">2</strong> would be deleted' in html
        assert not RetentionPolicy.objects.exists() and not audited(admin.workspace_id, "retention.changed")
        # The kiosk keeps a year: the workspace policy no longer reaches its conversation.
        client.post(f"{URL}/retention", {"kind": "closed_conversations", "channel": kiosk.pk, "days": "365",
                                         "intent": "save"})
        again = client.post(f"{URL}/retention", {"kind": "closed_conversations", "days": "30"}).content.decode()
        assert '<strong data-kind="closed_conversations">1</strong> would be deleted' in again
        saved = client.post(f"{URL}/retention", {"kind": "closed_conversations", "channel": "", "days": "30",
                                                 "intent": "save"})
        assert saved.status_code == 302
        assert set(RetentionPolicy.objects.values_list("channel_id", "days")) == {(None, 30), (kiosk.pk, 365)}
        page = client.get(URL).content.decode()
        assert "Retention policy saved." in page and 'id="due"' in page
        assert '<strong data-kind="closed_conversations">1</strong>' in page.split('id="due"')[1]
        assert Conversation.objects.count() == 2  # nothing deleted by previews or saves
        ran = client.post(f"{URL}/retention/run")
        assert ran.status_code == 200 and "Closed conversations: 1" in ran.content.decode()
        assert list(Conversation.objects.values_list("contact__name", flat=True)) == ["Kim Kiosk"]
        assert len(audited(admin.workspace_id, "retention.changed")) == 2
        assert audited(admin.workspace_id, "retention.applied")[0].details == {"closed_conversations": 1}
        removed = client.post(f"{URL}/retention", {"kind": "closed_conversations", "channel": kiosk.pk,
                                                   "intent": "delete"})
        assert removed.status_code == 302
        assert list(RetentionPolicy.objects.values_list("channel_id", flat=True)) == [None]


@pytest.mark.parametrize(("form", "status", "reason"), [
    ({"kind": "closed_conversations", "days": "0"}, 400, "Keep data 1 to 36500 days."),
    ({"kind": "closed_conversations", "days": "many"}, 400, "days must be a number."),
    ({"kind": "forever", "days": "30"}, 400, "Unknown retention kind"),
    ({"kind": "audit_entries", "days": "30", "channel": "CHANNEL"}, 400, "Audit entries have a workspace policy only."),
])
@pytest.mark.parametrize("intent", ["preview", "save"])
def test_invalid_policies_are_refused_with_the_reason(client, admin, form, status, reason, intent):
    channel = factories.make_api_channel(admin)
    signed_in(client, admin)
    form = {**form, "intent": intent, "channel": str(channel.pk) if form.get("channel") else ""}
    answer = client.post(f"{URL}/retention", form)
    assert answer.status_code == status and reason in answer.content.decode()
    assert not RetentionPolicy.objects.exists()


def test_redaction_settings_and_the_detectors_that_apply(client, admin):
    signed_in(client, admin)  # the workspace serves IL (its phone region)
    page = client.get(URL).content.decode()
    assert "Israeli ID numbers <code dir=\"ltr\">IL</code> — <strong>on</strong>" in page
    assert "Czech birth numbers <code dir=\"ltr\">CZ</code> — off (country not served)" in page
    tried = client.post(f"{URL}/redaction", {"intent": "try", "sample": f"my card is {CARD}"}).content.decode()
    assert "[card ••••4242]" in tried.split('id="masked">')[1] and CARD not in tried.split('id="masked">')[1]
    assert client.post(f"{URL}/redaction", {"countries": "cz, us"}).status_code == 302  # unchecked: off
    workspace = Workspace.objects.get(pk=admin.workspace_id)
    assert (workspace.redact_pii, workspace.countries) == (False, ["CZ", "US"])
    entry, = audited(admin.workspace_id, "workspace.settings_changed")
    assert entry.details["after"] == {"redact_pii": False, "countries": ["CZ", "US"]}
    page = client.get(URL).content.decode()
    assert "Czech birth numbers <code dir=\"ltr\">CZ</code> — off (masking is turned off)" in page
    bad = client.post(f"{URL}/redaction", {"redact_pii": "1", "countries": "Czechia"})
    assert bad.status_code == 400 and "Countries are two-letter ISO codes." in bad.content.decode()
    assert Workspace.objects.get(pk=admin.workspace_id).redact_pii is False


def test_the_erasure_grace_period(client, admin):
    signed_in(client, admin)
    assert client.post(f"{URL}/settings", {"erasure_grace_days": "14"}).status_code == 302
    assert PrivacySettings.objects.get(workspace_id=admin.workspace_id).erasure_grace_days == 14
    bad = client.post(f"{URL}/settings", {"erasure_grace_days": "400"})
    assert bad.status_code == 400 and "The grace period is 0 to 90 days." in bad.content.decode()


def test_another_workspaces_channel_answers_404_and_nothing_changes(client, admin):
    other = factories.make_workspace(name="Other Co")
    theirs = factories.make_api_channel(other)
    signed_in(client, admin)
    for intent in ("preview", "save", "delete"):
        answer = client.post(f"{URL}/retention", {"kind": "raw_payloads", "channel": theirs.pk, "days": "30",
                                                  "intent": intent})
        assert answer.status_code == 404
    assert not RetentionPolicy.objects.exists()
    assert "Shop backend" not in client.get(URL).content.decode()


@pytest.mark.parametrize("role", ["agent", "light"])
def test_agents_and_light_agents_are_refused(client, admin, role):
    people = members(admin)
    signed_in(client, people[role])
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}/redaction", {"countries": "US"}).status_code == 403
    assert client.post(f"{URL}/settings", {"erasure_grace_days": "1"}).status_code == 403
    assert client.post(f"{URL}/retention", {"kind": "raw_payloads", "days": "1", "intent": "save"}).status_code == 403
    assert client.post(f"{URL}/retention/run").status_code == 403
    assert not RetentionPolicy.objects.exists()
    assert Workspace.objects.get(pk=admin.workspace_id).redact_pii is True

"""The outreach screens: an admin previews a segment's count, saves a draft, sends it and reads the report and the
CSV; the settings screen saves quiet hours, rate limits, region defaults and proactive rules; agents cannot send;
the screens read right to left in Hebrew. And the composer's "Reply on" starts on the contact's preferred
reachable channel."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from threadline.channels.sms.tests.helpers import make_twilio_channel
from threadline.contacts.actions import do_add_identity
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation
from threadline.outreach.models import Campaign, OutreachSettings, ProactiveRule
from threadline.outreach.testkit import contact
from threadline.outreach.testkit import settings as save_settings
from threadline.tenancy.models import Role
from threadline.testing import factories
from threadline.web.tests.helpers import FETCH, customer_writes

pytestmark = pytest.mark.django_db



def test_an_admin_previews_saves_sends_and_reads_the_report(client, admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    contact(admin, "Noa", phone="+14155550401", language="he")
    contact(admin, "Dan", phone="+14155550402", language="en")
    client.force_login(admin.user)
    page = client.get("/app/outreach").content.decode()
    assert "New campaign" in page and 'href="/app/outreach"' in page
    preview = client.get("/app/outreach", {"preview": "1", "segment_language": "he"}).content.decode()
    assert re.search(r'<output id="segment-count"[^>]*>1 contact in this segment</output>', preview)
    bad = client.get("/app/outreach", {"preview": "1", "segment_json": "{nope"})
    assert bad.status_code == 400 and "not valid JSON" in bad.content.decode()
    answer = client.post("/app/outreach/new", {"name": "Hebrew week", "purpose": "marketing",
                                               "segment_language": "he", "message_he": "שלום {{name}}",
                                               "message_en": "Hello {{name}}"})
    campaign = Campaign.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/app/outreach/{campaign.pk}"
    assert campaign.segment == {"all": [{"language": "he"}]} and campaign.state == "draft"
    detail = client.get(f"/app/outreach/{campaign.pk}").content.decode()
    assert '<dd id="segment-count">1</dd>' in detail
    assert client.post(f"/app/outreach/{campaign.pk}/send").status_code == 302
    run_jobs()
    detail = client.get(f"/app/outreach/{campaign.pk}").content.decode()
    assert re.search(r'<tr data-status="delivered"><td>Delivered</td><td>1</td>', detail)
    csv_text = b"".join(client.get(f"/app/outreach/{campaign.pk}/deliveries.csv").streaming_content).decode()
    assert "Noa,delivered" in csv_text and "Dan" not in csv_text
    empty = client.post("/app/outreach/new", {"name": "Nothing", "purpose": "marketing"})
    assert empty.status_code == 400 and "at least one language" in empty.content.decode()


def test_agents_read_but_cannot_send_and_workspaces_are_apart(client, admin):
    with transaction.atomic():
        from threadline.outreach.actions import do_create_campaign

        ours = do_create_campaign(admin.workspace, actor=admin, name="Ours", messages={"en": "Hi"})
    agent = factories.make_agent(admin, "agent@example.com", role=Role.AGENT)
    client.force_login(agent.user)
    assert client.get("/app/outreach").status_code == 403  # analytics.view is the admins' here
    assert client.post(f"/app/outreach/{ours.pk}/send").status_code == 403
    other = factories.make_workspace("Globex", region="US")
    client.force_login(other.user)
    assert client.get(f"/app/outreach/{ours.pk}").status_code == 404
    assert client.post(f"/app/outreach/{ours.pk}/send").status_code == 404
    assert "Ours" not in client.get("/app/outreach").content.decode()


def test_settings_and_proactive_rules_are_saved_from_the_screen(client, admin):
    client.force_login(admin.user)
    assert client.get("/app/admin/outreach").status_code == 200
    saved = client.post("/app/admin/outreach", {"form": "settings", "quiet_start": "21:00", "quiet_end": "08:00",
                                                "default_rate_per_minute": "120", "rate_sms": "30",
                                                "region_defaults": "TH line\nil whatsapp"})
    assert saved.status_code == 302
    found = OutreachSettings.objects.get()
    assert (found.rate_limits, found.region_defaults) == ({"sms": 30}, {"TH": "line", "IL": "whatsapp"})
    bad = client.post("/app/admin/outreach", {"form": "settings", "region_defaults": "Thailand"})
    assert bad.status_code == 400
    assert client.post("/app/admin/outreach", {"form": "rule", "name": "Pricing help", "enabled": "on",
                                               "trigger": "url", "url_pattern": "*/pricing*",
                                               "message_en": "Questions about plans?",
                                               "message_he": "שאלות על התוכניות?"}).status_code == 302
    rule = ProactiveRule.objects.get()
    assert rule.messages == {"en": "Questions about plans?", "he": "שאלות על התוכניות?"}
    page = client.get("/app/admin/outreach").content.decode()
    assert "Pricing help" in page and 'value="*/pricing*"' in page
    client.post("/app/admin/outreach", {"form": "rule", "rule_id": str(rule.pk), "delete": "1"})
    assert not ProactiveRule.objects.exists()


def test_the_screens_read_right_to_left_in_hebrew_and_fit_a_phone(client, admin):
    admin.user.language = "he"
    admin.user.save(update_fields=["language"])
    client.force_login(admin.user)
    for url in ("/app/outreach", "/app/admin/outreach"):
        page = client.get(url).content.decode()
        assert '<html lang="he" dir="rtl">' in page
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in page


def test_reply_on_starts_on_the_contacts_preferred_reachable_channel(client, admin, receiver, twilio):
    api = factories.make_api_channel(admin, webhook_url=receiver.url)
    blind = factories.make_api_channel(admin)  # no webhook URL: cannot deliver
    sms = make_twilio_channel(admin, api_base_url=twilio.url)
    conversation = customer_writes(api, "Hello", address="shop-42", kind="external").conversation
    with transaction.atomic():
        do_add_identity(conversation.contact, "phone", "+66812345678", suggest=False)  # a Thai number
    client.force_login(admin.user)

    def selected() -> int:
        html = client.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
        html = html[html.index('id="channel-select"'):]
        return int(re.search(r'<option value="(\d+)"[^>]*selected', html).group(1))

    assert selected() == api.pk  # where the customer last wrote
    save_settings(admin, region_defaults={"TH": "sms"})
    assert selected() == api.pk  # a region's default does not beat where they write from
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(last_inbound_channel=blind)
    assert selected() == sms.pk  # the default cannot deliver: the region's channel before the first reachable
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(last_inbound_channel=api)
    panel = client.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    assert f'action="/app/x/contacts/{conversation.contact_id}/preferred-channel"' in panel
    answer = client.post(f"/app/x/contacts/{conversation.contact_id}/preferred-channel",
                         {"preferred_channel": "sms", "back": f"/app/c/{conversation.pk}/"})
    assert answer.status_code == 302 and Contact.objects.get(pk=conversation.contact_id).preferred_channel == "sms"
    assert selected() == sms.pk  # stated in the contact panel: their preferred channel, reachable, first


def test_the_widget_config_carries_the_enabled_rules_in_the_visitors_language(client, admin):
    from threadline.channels.webchat.testkit import make_webchat_channel
    from threadline.outreach.actions import do_save_proactive_rule

    channel = make_webchat_channel(admin)
    with transaction.atomic():
        do_save_proactive_rule(admin, None, name="Pricing", trigger="url", url_pattern="*/pricing*", seconds=0,
                               call_name="", messages={"en": "Questions?", "he": "שאלות?"})
        do_save_proactive_rule(admin, None, enabled=False, name="Off", trigger="time", url_pattern="", seconds=5,
                               call_name="", messages={"en": "Hidden"})
    hebrew = client.get(f"/widget/{channel.pk}/config?lang=he-IL").json()
    assert [(r["trigger"], r["url_pattern"], r["text"]) for r in hebrew["proactive"]] == [
        ("url", "*/pricing*", "שאלות?")]
    assert hebrew["dismiss_label"] == "דחייה"
    assert client.get(f"/widget/{channel.pk}/config?lang=cs").json()["proactive"][0]["text"] == "Questions?"
    other = factories.make_workspace("Globex", region="US")
    assert client.get(f"/widget/{make_webchat_channel(other).pk}/config").json()["proactive"] == []

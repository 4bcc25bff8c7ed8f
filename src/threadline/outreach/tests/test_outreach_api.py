"""/api/v1/outreach: a campaign from draft to report and CSV, segment previews, event notifications by email or
phone (idempotent by key), settings and proactive rules — and nothing of one workspace seen or sent from another."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from threadline.channels.sms.tests.helpers import make_twilio_channel
from threadline.conversations.models import Conversation, Tag
from threadline.outreach.models import Campaign, OutreachDelivery
from threadline.outreach.testkit import MESSAGES_PATH, contact
from threadline.testing import factories

pytestmark = pytest.mark.django_db



def bearer(member) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {factories.make_token(member)}")


def test_a_campaign_from_draft_to_report_and_csv_with_a_segment(api, admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    gold = contact(admin, "Gold He", phone="+14155550301", language="he", attributes={"plan": "gold"})
    contact(admin, "Gold En", phone="+14155550302", language="en", attributes={"plan": "gold"})
    contact(admin, "Silver", phone="+14155550303", attributes={"plan": "silver"})
    contact(admin, "Gold no phone", attributes={"plan": "gold"})
    segment = {"all": [{"attribute": "plan", "op": "eq", "value": "gold"}]}
    assert api.post("/api/v1/outreach/segments/preview", {"segment": segment},
                    content_type="application/json").json() == {"count": 3}
    bad = api.post("/api/v1/outreach/segments/preview", {"segment": {"colour": "red"}}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_segment"
    created = api.post("/api/v1/outreach/campaigns", {
        "name": "Gold week", "purpose": "marketing", "segment": segment,
        "messages": {"en": "Hi {{name}}, gold week starts.", "he": "שלום {{name}}, שבוע הזהב מתחיל."}},
        content_type="application/json")
    assert created.status_code == 201 and created.json()["state"] == "draft"
    campaign_id = created.json()["id"]
    sent = api.post(f"/api/v1/outreach/campaigns/{campaign_id}/send")
    assert sent.status_code == 202 and sent.json()["recipients"] == 3
    assert api.post(f"/api/v1/outreach/campaigns/{campaign_id}/send").json()["code"] == "campaign_not_draft"
    run_jobs()
    report = api.get(f"/api/v1/outreach/campaigns/{campaign_id}").json()
    assert report["state"] == "done"
    assert report["report"]["by_status"] == {"pending": 0, "held": 0, "queued": 0, "delivered": 2, "failed": 0,
                                             "skipped": 1}
    assert report["report"]["reasons"] == [{"status": "skipped", "code": "no_reachable_channel", "count": 1,
                                            "reason": "The contact has no channel outreach can use."}]
    assert report["report"]["sms_segments"] == 2  # one part each (the Hebrew one UCS-2, still under 70)
    bodies = {c.form()["To"][0]: c.form()["Body"][0] for c in twilio.calls("POST", MESSAGES_PATH)}
    assert bodies[gold.identities.get().address] == "שלום Gold He, שבוע הזהב מתחיל."
    page = api.get(f"/api/v1/outreach/campaigns/{campaign_id}/deliveries?status=skipped").json()
    assert [r["reason_code"] for r in page["items"]] == ["no_reachable_channel"]
    exported = api.get(f"/api/v1/outreach/campaigns/{campaign_id}/deliveries.csv")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert sorted((r["contact_name"], r["status"], r["channel_kind"]) for r in table) == [
        ("Gold En", "delivered", "sms"), ("Gold He", "delivered", "sms"), ("Gold no phone", "skipped", "")]


def test_segments_by_tag_language_and_activity(api, admin):
    tagged = contact(admin, "Tagged", language="pt-BR")
    contact(admin, "Other", language="en")
    conversation = Conversation.objects.create(workspace_id=admin.workspace_id, contact=tagged)
    conversation.tags.add(Tag.objects.create(workspace_id=admin.workspace_id, name="vip"))

    def count(segment):
        return api.post("/api/v1/outreach/segments/preview", {"segment": segment},
                        content_type="application/json").json()["count"]

    assert count({"tag": "vip"}) == 1
    assert count({"language": "pt"}) == 1
    assert count({"any": [{"language": "en"}, {"tag": "vip"}]}) == 2
    assert count({"not": {"tag": "vip"}}) == 1
    assert count({"inactive_for_days": 30}) == 2 and count({"active_within_days": 30}) == 0
    assert count({}) == 2


def test_an_event_notifies_one_contact_by_phone_once_per_key(api, admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    dana = contact(admin, "Dana", phone="+14155550310")
    assert api.post("/api/v1/outreach/campaigns", {
        "name": "Order delayed", "kind": "notification", "event": "order_delayed", "purpose": "transactional",
        "messages": {"en": "Hi {{name}}, order {{order}} is late: {{why}}."}},
        content_type="application/json").status_code == 201
    body = {"event": "order_delayed", "contact": {"phone": "+1 415 555 0310"},
            "variables": {"order": "A-17", "why": "the storm"}, "key": "A-17-delay"}
    first = api.post("/api/v1/outreach/notifications", body, content_type="application/json")
    assert first.status_code == 202 and first.json()["status"] == "pending"
    again = api.post("/api/v1/outreach/notifications", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    run_jobs()
    row = OutreachDelivery.objects.get()
    assert (row.contact_id, row.status) == (dana.pk, "delivered")
    assert twilio.calls("POST", MESSAGES_PATH)[-1].form()["Body"] == ["Hi Dana, order A-17 is late: the storm."]
    unknown = api.post("/api/v1/outreach/notifications", {**body, "event": "nope"}, content_type="application/json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_event"
    nobody = api.post("/api/v1/outreach/notifications", {**body, "contact": {"email": "who@example.com"}},
                      content_type="application/json")
    assert nobody.status_code == 404 and nobody.json()["code"] == "contact_not_found"
    assert Campaign.objects.get().state == "active"


def test_two_workspaces_see_and_reach_only_their_own(api, admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    contact(admin, "Ours", phone="+14155550320")
    other_admin = factories.make_workspace("Globex", region="US")
    theirs = contact(other_admin, "Theirs", phone="+14155550321")
    other = bearer(other_admin)
    mine = api.post("/api/v1/outreach/campaigns", {"name": "Ours", "messages": {"en": "Hello"}},
                    content_type="application/json").json()["id"]
    assert other.get(f"/api/v1/outreach/campaigns/{mine}").status_code == 404
    assert other.post(f"/api/v1/outreach/campaigns/{mine}/send").status_code == 404
    assert other.get(f"/api/v1/outreach/campaigns/{mine}/deliveries.csv").status_code == 404
    assert other.get("/api/v1/outreach/campaigns").json()["items"] == []
    api.post(f"/api/v1/outreach/campaigns/{mine}/send")
    run_jobs()
    assert [r.contact.name for r in OutreachDelivery.objects.select_related("contact")] == ["Ours"]
    other.post("/api/v1/outreach/campaigns", {"name": "Theirs", "kind": "notification", "event": "ping",
                                              "messages": {"en": "Ping"}}, content_type="application/json")
    refused = api.post("/api/v1/outreach/notifications", {"event": "ping", "contact": {"contact_id": theirs.pk}},
                       content_type="application/json")
    assert refused.status_code == 404 and refused.json()["code"] == "contact_not_found"
    rule = other.post("/api/v1/outreach/proactive-rules", {"name": "Pricing", "trigger": "url",
                                                           "url_pattern": "*/pricing*", "messages": {"en": "Hi"}},
                      content_type="application/json").json()["id"]
    assert api.put(f"/api/v1/outreach/proactive-rules/{rule}", {"name": "x", "trigger": "time", "seconds": 5,
                                                                "messages": {"en": "x"}},
                   content_type="application/json").status_code == 404
    assert api.get("/api/v1/outreach/proactive-rules").json() == []


def test_settings_are_checked(api):
    good = api.put("/api/v1/outreach/settings", {"quiet_start": "21:00", "quiet_end": "08:00",
                                                 "rate_limits": {"sms": 60}, "region_defaults": {"th": "line"}},
                   content_type="application/json")
    assert good.status_code == 200 and good.json()["region_defaults"] == {"TH": "line"}
    assert api.get("/api/v1/outreach/settings").json()["rate_limits"] == {"sms": 60}
    for bad, code in (({"quiet_start": "21:00"}, "invalid_quiet_hours"),
                      ({"rate_limits": {"pigeon": 5}}, "invalid_rate_limit"),
                      ({"region_defaults": {"Thailand": "line"}}, "invalid_region_defaults")):
        answer = api.put("/api/v1/outreach/settings", bad, content_type="application/json")
        assert answer.status_code == 400 and answer.json()["code"] == code


def test_a_notification_may_name_its_own_purpose_and_the_consent_for_it_applies(api, admin, run_jobs, twilio):
    from django.db import transaction

    from threadline.consent.actions import do_record_consent

    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    contact(admin, "Dana", phone="+14155550330")
    with transaction.atomic():
        do_record_consent(admin, channel, "phone", "+14155550330", "opt_out", purpose="marketing")
    api.post("/api/v1/outreach/campaigns", {"name": "Back in stock", "kind": "notification", "event": "restock",
                                            "purpose": "transactional", "messages": {"en": "{{item}} is back"}},
             content_type="application/json")
    body = {"event": "restock", "contact": {"phone": "+14155550330"}, "variables": {"item": "The blue vase"}}
    service = api.post("/api/v1/outreach/notifications", body, content_type="application/json").json()
    ad = api.post("/api/v1/outreach/notifications", {**body, "purpose": "marketing"},
                  content_type="application/json").json()
    assert (service["purpose"], ad["purpose"]) == ("", "marketing")
    bad = api.post("/api/v1/outreach/notifications", {**body, "purpose": "gossip"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_purpose"
    run_jobs()
    rows = {r.pk: r for r in OutreachDelivery.objects.all()}
    assert rows[service["id"]].status == "delivered"
    assert (rows[ad["id"]].status, rows[ad["id"]].reason_code) == ("skipped", "opted_out")

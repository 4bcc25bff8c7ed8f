"""The "Needs attention" screen (issue 9 item 1): an inbound payload that could not be stored is shown to
the workspace's admins with its reason, channel, time and payload, counted in the navigation, and replayed
with one click after the fix; other workspaces and agents never see or replay it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import transaction

from threadline.channels.actions import do_update_channel
from threadline.channels.models import InboundEvent
from threadline.channels.whatsapp.tests.helpers import (
    GOOD_TOKEN,
    fixture,
    make_whatsapp_channel,
    meta_post,
    strict_graph,
)
from threadline.conversations.models import Message
from threadline.testing import factories
from threadline.web.tests.helpers import FETCH


@pytest.fixture
def graph():
    fake = strict_graph()
    yield fake
    fake.stop()


@pytest.fixture
def failed(client, admin, run_jobs, graph):
    """A WhatsApp picture whose download Meta refused (the channel's access token is wrong)."""
    channel = make_whatsapp_channel(admin, graph.url)
    response = meta_post(client, channel, fixture("image.json"))
    assert response.status_code == 202
    run_jobs()
    event = InboundEvent.objects.get(pk=response.json()["inbound_event_id"])
    assert event.state == InboundEvent.State.FAILED
    return event


def test_the_admin_sees_the_reason_channel_time_and_payload_and_replays_after_the_fix(
        client, admin, failed, run_jobs):
    client.force_login(admin.user)
    inbox = client.get("/app/").content.decode()
    assert re.search(r'<li id="attention-nav"><a href="/app/attention"[^>]*>Needs attention<span class="count"[^>]*>1</span>',
                     inbox)

    page = client.get("/app/attention").content.decode()
    assert "Invalid OAuth access token." in page  # the reason
    assert "WhatsApp support" in page and "WhatsApp" in page  # the channel
    assert f'datetime="{failed.created_at.isoformat()}' in page  # the time
    assert "The box arrived like this" in page and "x-hub-signature-256: sha256=" in page  # the payload
    assert f'action="/app/attention/{failed.pk}/replay"' in page

    with transaction.atomic():  # the fix: the right token
        do_update_channel(admin, failed.channel, config={"access_token": GOOD_TOKEN})
    replayed = client.post(f"/app/attention/{failed.pk}/replay")
    assert replayed.status_code == 302 and replayed["Location"] == "/app/attention?done=received"
    run_jobs()
    failed.refresh_from_db()
    assert failed.state == InboundEvent.State.PROCESSED
    assert Message.objects.get(channel=failed.channel).attachments.count() == 1
    assert "Nothing needs attention" in client.get("/app/attention?done=received").content.decode()
    assert '<li id="attention-nav" hidden>' in client.get("/app/").content.decode()  # shown again when one fails


def test_it_reads_right_to_left_in_hebrew_and_fits_a_phone(client, admin, failed):
    admin.user.language = "he"
    admin.user.save(update_fields=["language"])
    client.force_login(admin.user)
    page = client.get("/app/attention").content.decode()
    assert '<html lang="he" dir="rtl">' in page
    assert '<pre class="payload" dir="ltr">' in page  # the raw payload stays left to right
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    css = (Path(__file__).resolve().parent.parent / "static" / "web" / "app.css").read_text()
    rules = css[css.index("/* needs attention"):]
    assert "inline-size: min(960px, 96vw)" in rules and "overflow-wrap: anywhere" in rules
    assert "left:" not in rules and "margin-left" not in rules and "padding-left" not in rules


def test_agents_and_other_workspaces_neither_see_nor_replay_it(client, admin, failed):
    agent = factories.make_agent(admin, "agent@example.com")
    client.force_login(agent.user)
    assert 'href="/app/attention"' not in client.get("/app/").content.decode()
    assert client.get("/app/attention").status_code == 403
    assert client.post(f"/app/attention/{failed.pk}/replay", **FETCH).status_code == 403

    other = factories.make_workspace("Other Shop")
    client.force_login(other.user)
    assert "Invalid OAuth" not in client.get("/app/attention").content.decode()
    refused = client.post(f"/app/attention/{failed.pk}/replay", **FETCH)
    assert refused.status_code == 404 and refused.json()["code"] == "inbound_event_not_found"
    assert client.post(f"/app/attention/{failed.pk}/dismiss", **FETCH).status_code == 404
    failed.refresh_from_db()
    assert failed.state == InboundEvent.State.FAILED and failed.replays == 0


# ── what did not go out: replies and webhook deliveries ──────────────────────────────────────────────
def _failing_outbound(admin, receiver, run_jobs):
    """A reply the customer's system refused (400) and a webhook delivery its receiver refused (404)."""
    from threadline.conversations.actions import do_send_reply, do_update_conversation
    from threadline.web.tests.helpers import customer_writes
    from threadline.webhooks.actions import do_create_subscription

    receiver.statuses = [400, 404]
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    conversation = customer_writes(channel, "Where is my refund?").conversation
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "Your refund is on its way")
    run_jobs()
    with transaction.atomic():
        subscription, _ = do_create_subscription(admin, receiver.url, ["conversation.updated"])
        do_update_conversation(admin, conversation, priority="high")
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "failed"
    return reply, subscription


def test_replies_and_webhook_deliveries_that_failed_are_listed_with_where_to_fix_them(client, admin, receiver,
                                                                                   run_jobs):
    reply, subscription = _failing_outbound(admin, receiver, run_jobs)
    client.force_login(admin.user)
    page = client.get("/app/attention").content.decode()
    item = page[page.index(f'id="reply-{reply.pk}"'):]
    item = item[:item.index("</li>")]
    assert f'href="/app/c/{reply.conversation_id}/"' in item and "Dana Levi" in item
    assert "Not delivered: Shop backend did not accept this reply." in item
    hook = page[page.index(f'id="webhook-{subscription.pk}"'):]
    hook = hook[:hook.index("</li>")]
    assert f'href="/app/admin/webhooks/{subscription.pk}"' in hook and "1 delivery failed" in hook

    # retried (and delivered this time): no longer listed; the webhook's failure stays until it is redelivered
    assert client.post(f"/app/x/messages/{reply.pk}/retry", **FETCH).status_code == 200
    run_jobs()
    page = client.get("/app/attention").content.decode()
    assert f'id="reply-{reply.pk}"' not in page and "Every reply went out." in page
    delivery = subscription.deliveries.get()
    assert client.post(f"/app/admin/webhooks/{subscription.pk}/deliveries/{delivery.pk}/redeliver").status_code == 302
    run_jobs()
    assert "No webhook delivery failed." in client.get("/app/attention").content.decode()


def test_failing_webhooks_only_for_who_administers_them_and_nothing_of_another_workspace(client, admin, receiver,
                                                                                       run_jobs):
    from threadline.tenancy.permissions import Permission

    reply, subscription = _failing_outbound(admin, receiver, run_jobs)
    channels_admin = factories.make_role_member(admin, "channels@example.com",
                                                [Permission.VIEW, Permission.ADMIN_CHANNELS])
    client.force_login(channels_admin.user)
    page = client.get("/app/attention").content.decode()
    assert f'id="reply-{reply.pk}"' in page
    assert "failing-webhooks" not in page and f"/app/admin/webhooks/{subscription.pk}" not in page

    other = factories.make_workspace("Other Shop")
    client.force_login(other.user)
    page = client.get("/app/attention").content.decode()
    assert f'id="reply-{reply.pk}"' not in page and f'id="webhook-{subscription.pk}"' not in page
    assert "Every reply went out." in page and "No webhook delivery failed." in page

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

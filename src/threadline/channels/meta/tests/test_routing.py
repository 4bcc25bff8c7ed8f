"""One Meta app has one callback URL for all its numbers and Pages: each part of a signed webhook goes to the
channel that owns its id (and whose app secret signed it); what no channel owns is parked, visible, not applied.

Payloads are the documented shapes (the WhatsApp and Messenger fixtures), signed as Meta signs them
(HMAC-SHA256 of the raw body with the app secret, checked with pywa's own validator).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.db import transaction
from pywa.utils import webhook_updates_validator

from threadline.channels.actions import do_create_channel, do_replay_inbound_event
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.models import InboundEvent
from threadline.channels.whatsapp.tests.helpers import APP_SECRET, fixture, meta_post, meta_signature
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.testing import factories

OTHER_SECRET = "another-meta-app-secret-42"
NUMBERS = {"ours": "106540352242922", "theirs": "106540352242999", "other_app": "106540352242777",
           "nobody": "106540352242000"}
MESSENGER_FIXTURES = Path(__file__).resolve().parents[2] / "messenger" / "fixtures"
PAGE, OTHER_PAGE, IG = "104213715622913", "104213715622999", "17841405822304914"


def messenger_fixture(name: str) -> bytes:
    return (MESSENGER_FIXTURES / name).read_bytes()


@pytest.fixture
def graph():
    fake = FakeProvider().start()
    fake.route("GET", "/6512345678901234", 200, {"first_name": "Peter", "last_name": "Chang"})
    fake.route("POST", f"/{NUMBERS['theirs']}/messages", 200,
               {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT-theirs"}]})
    yield fake
    fake.stop()


def _channel(admin, kind: str, owner: str, graph_url: str, secret: str = APP_SECRET):
    config = {"access_token": "EAAG-test-token", "app_secret": secret, "verify_token": "verify-token-0123456789",
              "graph_base_url": graph_url}
    config.update({"phone_number_id": owner} if kind == "whatsapp" else {"page_id": owner})
    with transaction.atomic():
        return do_create_channel(admin, kind, f"{kind} {owner}", config)


def _whatsapp_batch() -> dict:
    """Four changes of one WABA entry, one per phone number, each with one customer message."""
    single = json.loads(fixture("batch.json", out_id="wamid.none"))
    template = single["entry"][0]["changes"][0]
    changes = []
    for label, number in NUMBERS.items():
        change = copy.deepcopy(template)
        value = change["value"]
        value["metadata"]["phone_number_id"] = number
        value["messages"] = [dict(value["messages"][0], id=f"wamid.{label}", text={"body": f"to {label}"})]
        value["contacts"] = value["contacts"][:1]
        value["statuses"] = [] if label != "theirs" else [{"id": "wamid.OUT-theirs", "status": "delivered",
                                                "timestamp": "1750263773", "recipient_id": "16505551234"}]
        changes.append(change)
    single["entry"][0]["changes"] = changes
    return single


def test_whatsapp_entries_go_to_the_number_that_owns_them(client, admin, run_jobs, graph):
    ours = _channel(admin, "whatsapp", NUMBERS["ours"], graph.url)
    elsewhere = factories.make_workspace("Elsewhere")
    theirs = _channel(elsewhere, "whatsapp", NUMBERS["theirs"], graph.url)
    other_app = _channel(elsewhere, "whatsapp", NUMBERS["other_app"], graph.url, secret=OTHER_SECRET)
    # an earlier reply of the other workspace, whose status comes back through our callback URL
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "messages", "value": {"metadata": {"phone_number_id": NUMBERS["theirs"]},
                                       "contacts": [{"wa_id": "16505551234", "profile": {"name": "S"}}],
                                       "messages": [{"from": "16505551234", "id": "wamid.first",
                                                     "type": "text", "text": {"body": "hi"}}]}}]}]}).encode()
    assert meta_post(client, theirs, body).status_code == 202
    run_jobs()
    with transaction.atomic():
        reply = do_send_reply(elsewhere, Conversation.objects.get(workspace=elsewhere.workspace), "hello")
    run_jobs()

    raw = json.dumps(_whatsapp_batch()).encode()
    assert webhook_updates_validator(APP_SECRET, raw, meta_signature(raw))
    response = meta_post(client, ours, raw)
    assert response.status_code == 202, response.content
    run_jobs()
    where = dict(Message.objects.filter(direction="in").values_list("provider_message_id", "channel_id"))
    assert where == {"wamid.first": theirs.pk, "wamid.ours": ours.pk, "wamid.theirs": theirs.pk}
    assert Message.objects.get(provider_message_id="wamid.theirs").workspace_id == elsewhere.workspace_id
    reply.refresh_from_db()
    assert reply.status == "delivered"
    assert not InboundEvent.objects.filter(channel=other_app).exists()  # another app secret: never trusted
    parked = InboundEvent.objects.get(channel=ours, state="failed")
    assert bytes(parked.body) == raw
    assert NUMBERS["other_app"] in parked.error and NUMBERS["nobody"] in parked.error
    assert NUMBERS["ours"] not in parked.error
    # Meta retries the same delivery: nothing is stored twice
    again = meta_post(client, ours, raw)
    assert again.status_code == 200 and json.loads(again.content)["status"] == "duplicate"
    assert InboundEvent.objects.count() == 4  # first message, our part, their part, the parked rest


def test_messenger_and_instagram_entries_are_checked_against_the_object_and_page(client, admin, run_jobs, graph):
    page = _channel(admin, "messenger", PAGE, graph.url)
    other_page = _channel(admin, "messenger", OTHER_PAGE, graph.url)
    instagram = _channel(admin, "instagram", IG, graph.url)
    document = json.loads(messenger_fixture("batch.json"))
    first, second = document["entry"][0]["messaging"]
    document["entry"] = [
        {"id": PAGE, "time": 1763953200123, "messaging": [first]},
        {"id": OTHER_PAGE, "time": 1763953200123,
         "messaging": [dict(second, recipient={"id": OTHER_PAGE})]},
    ]
    # a Page payload on the Instagram hook: each entry goes to its Page's channel, none to Instagram
    assert meta_post(client, instagram, document).status_code == 202
    run_jobs()
    assert dict(Message.objects.values_list("text", "channel_id")) == {"first": page.pk, "second": other_page.pk}
    assert not Message.objects.filter(channel=instagram).exists()
    # an Instagram payload for an account no channel has: parked on the hook it came to, nothing applied
    story = json.loads(messenger_fixture("instagram_text.json"))
    story["entry"][0]["id"] = "17841400000000000"
    assert meta_post(client, page, story).status_code == 202
    run_jobs()
    parked = InboundEvent.objects.get(state="failed")
    assert parked.channel_id == page.pk and "17841400000000000" in parked.error
    assert Message.objects.count() == 2
    assert set(InboundEvent.objects.exclude(pk=parked.pk).values_list("state", flat=True)) == {"processed"}
    # the account's channel is added, the parked event replayed: its entry now reaches that channel
    newcomer = _channel(admin, "instagram", "17841400000000000", graph.url)
    assert parked.error_code == "no_channel"
    with transaction.atomic():
        do_replay_inbound_event(admin, parked)
    run_jobs()
    parked.refresh_from_db()
    assert parked.state == "processed"
    assert Message.objects.get(channel=newcomer).text == "Do you ship to Haifa?"

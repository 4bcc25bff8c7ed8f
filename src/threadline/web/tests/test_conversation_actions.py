"""The composer and the conversation's actions, through the workspace's own endpoints."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from threadline.channels.webchat.testkit import make_webchat_channel
from threadline.contacts.models import Contact, ContactMerge
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, ConversationEvent, Message, Status
from threadline.jobs.models import Job
from threadline.realtime import presence
from threadline.replies.actions import do_save_template
from threadline.tenancy.models import Role
from threadline.testing import factories
from threadline.web.tests.helpers import FETCH, customer_writes


@pytest.fixture
def api_channel(admin, receiver):
    return factories.make_api_channel(admin, webhook_url=receiver.url)


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin.user)
    return client


@pytest.fixture
def conversation(api_channel):
    return customer_writes(api_channel, "Where is my order?").conversation


def test_reply_goes_out_on_the_customers_channel_with_attachments(signed_in, conversation, run_jobs, receiver):
    page = signed_in.get(f"/app/c/{conversation.pk}/").content.decode()
    assert "Shop backend" in page
    upload = SimpleUploadedFile("label.pdf", b"%PDF-1.4 label", content_type="application/pdf")
    sent = signed_in.post(f"/app/x/conversations/{conversation.pk}/reply",
                          {"text": "Here is the label.", "files": upload}, **FETCH)
    assert sent.status_code == 200, sent.content
    run_jobs()
    message = Message.objects.get(pk=sent.json()["message_id"])
    assert (message.status, message.channel.kind) == ("sent", "api")
    assert json.loads(receiver.requests[-1].body)["text"] == "Here is the label."
    attachment = message.attachments.get()
    download = signed_in.get(f"/app/x/attachments/{attachment.pk}")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 label"


def test_an_unreachable_channel_is_offered_with_its_reason(signed_in, admin, conversation):
    chat = make_webchat_channel(admin)
    page = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    option = page[page.index(f'<option value="{chat.pk}"'):]
    assert option.index("disabled") < option.index("The contact has no identity this channel can reach.") < \
        option.index("</option>")
    refused = signed_in.post(f"/app/x/conversations/{conversation.pk}/reply",
                             {"text": "Hi", "channel_id": str(chat.pk)}, **FETCH)
    assert refused.status_code == 400 and refused.json()["code"] == "no_identity"


def test_a_reply_sent_meanwhile_is_caught_before_sending(signed_in, admin, conversation):
    bob = factories.make_agent(admin, "bob@example.com")
    seen = Message.objects.filter(conversation=conversation).latest("pk").pk
    with transaction.atomic():
        do_send_reply(bob, conversation, "I'm on it.")
    clash = signed_in.post(f"/app/x/conversations/{conversation.pk}/reply",
                           {"text": "Let me check.", "seen_message_id": seen}, **FETCH)
    assert clash.status_code == 409 and clash.json()["code"] == "replied_meanwhile"
    assert "Bob replied while you were writing." in clash.json()["message"]
    assert not Message.objects.filter(text="Let me check.").exists()
    forced = signed_in.post(f"/app/x/conversations/{conversation.pk}/reply",
                            {"text": "Let me check.", "seen_message_id": seen, "force": "1"}, **FETCH)
    assert forced.status_code == 200
    latest = Message.objects.latest("pk").pk
    again = signed_in.post(f"/app/x/conversations/{conversation.pk}/reply",
                           {"text": "One more thing.", "seen_message_id": latest}, **FETCH)
    assert again.status_code == 200  # its own replies never count as "meanwhile"


def test_status_assignee_team_priority_and_tags(signed_in, admin, conversation, client):
    team = factories_team(admin)
    response = signed_in.post(f"/app/x/conversations/{conversation.pk}/update",
                              {"status": "pending", "assignee": "me", "team": str(team.pk), "priority": "high",
                               "tags": "billing, vip"}, **FETCH)
    assert response.status_code == 200, response.content
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee_id, conversation.team_id, conversation.priority) == (
        "pending", admin.pk, team.pk, "high")
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["billing", "vip"]
    signed_in.post(f"/app/x/conversations/{conversation.pk}/update", {"assignee": "none"}, **FETCH)
    conversation.refresh_from_db()
    assert conversation.assignee_id is None
    kinds = list(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert {"status_changed", "assigned", "team_changed", "priority_changed", "tags_changed"} <= set(kinds)
    light = factories.make_agent(admin, "light@example.com", role=Role.LIGHT_AGENT)
    client.force_login(light.user)
    refused = client.post(f"/app/x/conversations/{conversation.pk}/update", {"status": "solved"}, **FETCH)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert client.post(f"/app/x/conversations/{conversation.pk}/note", {"text": "FYI"}, **FETCH).status_code == 200


def factories_team(admin):
    from threadline.tenancy.actions import do_create_team

    with transaction.atomic():
        return do_create_team(admin.workspace, "Billing", members=[admin])


def test_snooze_wakes_the_conversation_at_its_time_unless_it_changed(signed_in, conversation, run_jobs):
    response = signed_in.post(f"/app/x/conversations/{conversation.pk}/snooze", {"until": "3h"}, **FETCH)
    assert response.status_code == 200, response.content
    conversation.refresh_from_db()
    assert conversation.status == Status.PENDING
    job = Job.objects.get(task="threadline.web.tasks.unsnooze_task")
    run_jobs()  # not due yet
    assert Conversation.objects.get(pk=conversation.pk).status == Status.PENDING
    with time_machine.travel(job.run_after + dt.timedelta(seconds=1)):
        run_jobs()
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    assert ConversationEvent.objects.filter(conversation=conversation, kind="unsnoozed").exists()

    signed_in.post(f"/app/x/conversations/{conversation.pk}/snooze", {"until": "1h"}, **FETCH)
    signed_in.post(f"/app/x/conversations/{conversation.pk}/update", {"status": "solved"}, **FETCH)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)):
        run_jobs()
    conversation.refresh_from_db()
    assert conversation.status == Status.SOLVED  # the agent solved it meanwhile: the snooze does not reopen it
    past = signed_in.post(f"/app/x/conversations/{conversation.pk}/snooze", {"until": "2001-01-01T09:00"}, **FETCH)
    assert past.status_code == 400 and past.json()["code"] == "invalid_time"


def test_a_local_snooze_time_is_read_in_the_agents_time_zone(signed_in, admin, conversation):
    with transaction.atomic():
        admin.user.time_zone = "Asia/Bangkok"
        admin.user.save()
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    response = signed_in.post(f"/app/x/conversations/{conversation.pk}/snooze", {"until": f"{tomorrow}T09:00"},
                              **FETCH)
    assert response.json()["until"] == f"{tomorrow}T09:00:00+07:00"


def test_merge_split_and_bulk(signed_in, admin, api_channel, conversation):
    other = customer_writes(api_channel, "Another question", address="zed@example.com").conversation
    merged = signed_in.post(f"/app/x/conversations/{other.pk}/merge", {"into": f"#{conversation.pk}"}, **FETCH)
    assert merged.json() == {"conversation_id": conversation.pk}
    other.refresh_from_db()
    assert (other.merged_into_id, other.status) == (conversation.pk, Status.CLOSED)

    moved = Message.objects.get(text="Another question")
    split = signed_in.post(f"/app/x/messages/{moved.pk}/split", **FETCH)
    assert split.status_code == 200, split.content
    new = Conversation.objects.get(pk=split.json()["conversation_id"])
    moved.refresh_from_db()
    assert moved.conversation_id == new.pk and new.previous_id == conversation.pk

    bulk = signed_in.post("/app/x/bulk", {"action": "assign_me", "ids": [conversation.pk, new.pk]}, **FETCH)
    assert bulk.json() == {"updated": 2}
    signed_in.post("/app/x/bulk", {"action": "status", "value": "solved", "ids": [conversation.pk, new.pk]}, **FETCH)
    assert set(Conversation.objects.filter(pk__in=[conversation.pk, new.pk]).values_list("assignee_id", "status")) == {
        (admin.pk, "solved")}
    refused = signed_in.post("/app/x/bulk", {"action": "status", "value": "bogus", "ids": [conversation.pk]}, **FETCH)
    assert refused.status_code == 400
    assert Conversation.objects.get(pk=conversation.pk).status == "solved"  # all or nothing


def test_canned_replies_fill_their_placeholders(signed_in, admin, conversation):
    with transaction.atomic():
        template = do_save_template(admin.workspace, None, name="Shipping", kind="canned", variants=[
            {"language": "en", "text": "Hi {{contact.first_name}}, it ships today. — {{agent.first_name}}"}])
    page = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    assert "Shipping" in page
    rendered = signed_in.get(f"/app/x/conversations/{conversation.pk}/canned/{template.pk}", **FETCH).json()
    assert rendered["text"] == "Hi Dana, it ships today. — Ada"


def test_merge_and_unmerge_contacts_from_the_sidebar(signed_in, admin, api_channel, conversation):
    twin = customer_writes(api_channel, "Me again", address="dana.levi@work.example", name="Dana Levi").conversation
    target, source = conversation.contact, twin.contact
    merged = signed_in.post(f"/app/x/contacts/{target.pk}/merge", {"source": source.pk}, **FETCH)
    assert merged.status_code == 200, merged.content
    assert Contact.objects.get(pk=source.pk).merged_into_id == target.pk
    panel = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    assert "dana.levi@work.example" in panel and "Unmerge" in panel
    merge = ContactMerge.objects.get()
    assert signed_in.post(f"/app/x/merges/{merge.pk}/unmerge", **FETCH).status_code == 200
    assert Contact.objects.get(pk=source.pk).merged_into_id is None


def test_presence_is_shown_to_colleagues_and_given_to_routing(signed_in, admin):
    from threadline.routing.models import AgentProfile

    assert signed_in.post("/app/x/presence", {"status": "away"}, **FETCH).json() == {"status": "offline"}
    presence.agent_connected(admin.pk, "socket-1")  # a live socket: the chosen status shows
    assert presence.agent_status(admin.pk) == "away"
    assert AgentProfile.objects.get(membership=admin).presence == "away"
    assert signed_in.post("/app/x/presence", {"status": "busy"}, **FETCH).status_code == 400

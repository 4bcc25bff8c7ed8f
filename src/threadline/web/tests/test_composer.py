"""The composer's newer actions through the workspace's endpoints: retrying a failed reply, sending it again on
another channel, send later (and cancel), macros, snooze presets in the agent's time zone, and the canned
replies the `/` menu lists. Each: an agent may, a light agent may not (403), another workspace's ids are 404."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import ConversationEvent, Message, ScheduledReply
from threadline.jobs.models import Job
from threadline.replies.actions import do_save_macro, do_save_template
from threadline.tenancy.models import Role
from threadline.testing import factories
from threadline.web.moments import preset_times
from threadline.web.tests.helpers import FETCH, customer_writes


@pytest.fixture
def light(client, admin):
    return factories.make_agent(admin, "light@example.com", role=Role.LIGHT_AGENT)


@pytest.fixture
def stranger(client):
    """A client signed in to another workspace."""
    other = factories.make_workspace("Other Co")
    return other


def failed_reply(admin, conversation, run_jobs, channel=None) -> Message:
    with transaction.atomic():
        message = do_send_reply(admin, conversation, "Your refund is on its way", channel=channel)
    run_jobs()
    message.refresh_from_db()
    assert message.status == "failed"
    return message


def test_a_failed_reply_shows_a_reason_and_retry_sends_it_again(signed_in, admin, api_channel, receiver, run_jobs):
    receiver.statuses = [400]  # the customer's system refuses it once
    conversation = customer_writes(api_channel, "Refund?").conversation
    message = failed_reply(admin, conversation, run_jobs)
    html = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    assert "Not delivered: Shop backend did not accept this reply." in html
    assert f'action="/app/x/messages/{message.pk}/retry"' in html

    answer = signed_in.post(f"/app/x/messages/{message.pk}/retry", **FETCH)
    assert answer.status_code == 200 and answer.json()["status"] == "queued"
    run_jobs()
    message.refresh_from_db()
    assert message.status == "sent"
    assert [json.loads(r.body)["text"] for r in receiver.requests] == ["Your refund is on its way"] * 2
    assert ConversationEvent.objects.filter(conversation=conversation, kind="reply_retried").count() == 1
    again = signed_in.post(f"/app/x/messages/{message.pk}/retry", **FETCH)
    assert again.status_code == 409 and again.json()["code"] == "not_failed"


def test_a_failed_reply_goes_out_again_on_another_channel(signed_in, admin, api_channel, receiver, run_jobs):
    blind = factories.make_api_channel(admin)  # no webhook URL: cannot deliver
    conversation = customer_writes(blind, "Hello from the blind side", address="x@example.com",
                                   kind="external").conversation
    customer_writes(api_channel, "and from here", address="x@example.com", kind="external")
    message = failed_reply(admin, conversation, run_jobs, channel=blind)
    html = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    assert "This API channel has no webhook URL" in html  # the human reason
    assert "Reply failed" in signed_in.get("/app/x/list", **FETCH).content.decode()

    same = signed_in.post(f"/app/x/messages/{message.pk}/resend", {"channel_id": blind.pk}, **FETCH)
    assert same.status_code == 409 and same.json()["code"] == "same_channel"
    answer = signed_in.post(f"/app/x/messages/{message.pk}/resend", {"channel_id": api_channel.pk}, **FETCH)
    assert answer.status_code == 200, answer.content
    run_jobs()
    copy = Message.objects.get(pk=answer.json()["message_id"])
    assert (copy.text, copy.channel_id, copy.status) == (message.text, api_channel.pk, "sent")
    message.refresh_from_db()
    assert message.metadata["resent_as"] == copy.pk
    assert "Reply failed" not in signed_in.get("/app/x/list", **FETCH).content.decode()
    twice = signed_in.post(f"/app/x/messages/{message.pk}/resend", {"channel_id": api_channel.pk}, **FETCH)
    assert twice.status_code == 409


def test_light_agents_and_other_workspaces_cannot_retry_or_resend(client, admin, api_channel, receiver, run_jobs,
                                                                  light, stranger):
    receiver.statuses = [400]
    conversation = customer_writes(api_channel, "Refund?").conversation
    message = failed_reply(admin, conversation, run_jobs)
    client.force_login(light.user)
    assert client.post(f"/app/x/messages/{message.pk}/retry", **FETCH).status_code == 403
    assert client.post(f"/app/x/messages/{message.pk}/resend", {"channel_id": api_channel.pk},
                       **FETCH).status_code == 403
    client.force_login(stranger.user)
    assert client.post(f"/app/x/messages/{message.pk}/retry", **FETCH).status_code == 404
    assert client.post(f"/app/x/messages/{message.pk}/resend", {"channel_id": api_channel.pk},
                       **FETCH).status_code == 404
    message.refresh_from_db()
    assert message.status == "failed" and not message.metadata.get("resent_as")


def test_send_later_goes_at_its_time_and_a_cancelled_one_never_does(signed_in, admin, api_channel, receiver,
                                                                    run_jobs):
    conversation = customer_writes(api_channel, "Call me back tomorrow").conversation
    start = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)  # a Monday
    with time_machine.travel(start, tick=False):
        answer = signed_in.post(f"/app/x/conversations/{conversation.pk}/schedule",
                                {"text": "Good morning! As promised…", "send_at": "tomorrow"}, **FETCH)
        assert answer.status_code == 200, answer.content
        kept = ScheduledReply.objects.get(pk=answer.json()["scheduled_id"])
        assert kept.send_at == dt.datetime(2026, 5, 5, 9, 0, tzinfo=dt.UTC)  # 09:00 in the agent's zone (UTC)
        other = signed_in.post(f"/app/x/conversations/{conversation.pk}/schedule",
                               {"text": "Never mind", "send_at": "2026-05-05T09:30"}, **FETCH).json()["scheduled_id"]
        page = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
        assert "Good morning! As promised" in page and f"/app/x/scheduled/{other}/cancel" in page
        assert signed_in.post(f"/app/x/scheduled/{other}/cancel", **FETCH).json()["state"] == "cancelled"
        assert signed_in.post(f"/app/x/scheduled/{other}/cancel", **FETCH).status_code == 409
        run_jobs()
        assert not Message.objects.filter(direction="out").exists()  # nothing before its time
        past = signed_in.post(f"/app/x/conversations/{conversation.pk}/schedule",
                              {"text": "Too late", "send_at": "2026-05-01T09:00"}, **FETCH)
        assert past.status_code == 400 and past.json()["code"] == "invalid_time"
    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        run_jobs()
    sent = Message.objects.get(direction="out")
    assert sent.text == "Good morning! As promised…" and sent.author_membership_id == admin.pk
    kept.refresh_from_db()
    assert (kept.state, kept.message_id) == ("sent", sent.pk)
    assert ScheduledReply.objects.get(pk=other).message_id is None
    assert [json.loads(r.body)["text"] for r in receiver.requests] == ["Good morning! As promised…"]


def test_send_later_permissions_and_workspaces(client, admin, api_channel, light, stranger):
    conversation = customer_writes(api_channel, "Later please").conversation
    client.force_login(admin.user)
    scheduled = client.post(f"/app/x/conversations/{conversation.pk}/schedule",
                            {"text": "Later", "send_at": "next_week"}, **FETCH).json()["scheduled_id"]
    client.force_login(light.user)
    assert client.post(f"/app/x/conversations/{conversation.pk}/schedule",
                       {"text": "Later", "send_at": "next_week"}, **FETCH).status_code == 403
    assert client.post(f"/app/x/scheduled/{scheduled}/cancel", **FETCH).status_code == 403
    client.force_login(stranger.user)
    assert client.post(f"/app/x/conversations/{conversation.pk}/schedule",
                       {"text": "Later", "send_at": "next_week"}, **FETCH).status_code == 404
    assert client.post(f"/app/x/scheduled/{scheduled}/cancel", **FETCH).status_code == 404
    assert ScheduledReply.objects.get().state == "scheduled"
    assert Job.objects.filter(task="threadline.conversations.tasks.send_scheduled_reply_task").count() == 1


def test_snooze_presets_are_in_the_agents_time_zone(signed_in, admin, api_channel):
    admin.user.time_zone = "Asia/Bangkok"
    admin.user.save()
    conversation = customer_writes(api_channel, "Snooze me").conversation
    bangkok = zoneinfo.ZoneInfo("Asia/Bangkok")
    with time_machine.travel(dt.datetime(2026, 5, 8, 20, 0, tzinfo=dt.UTC), tick=False):  # Sat 03:00 in Bangkok
        until = signed_in.post(f"/app/x/conversations/{conversation.pk}/snooze", {"until": "tomorrow"},
                               **FETCH).json()["until"]
        assert dt.datetime.fromisoformat(until) == dt.datetime(2026, 5, 10, 9, 0, tzinfo=bangkok)
        with timezone.override(bangkok):
            presets = preset_times()
    assert presets["later_today"] == dt.datetime(2026, 5, 9, 17, 0, tzinfo=bangkok)
    assert presets["next_week"] == dt.datetime(2026, 5, 11, 9, 0, tzinfo=bangkok)  # the coming Monday


def test_a_macro_applies_from_the_composer(client, admin, api_channel, receiver, run_jobs, light, stranger):
    with transaction.atomic():
        thanks = do_save_template(admin.workspace, None, name="Thanks", kind="canned",
                                  variants=[{"language": "en", "text": "Thanks {{ contact.name }}, all done."}])
        macro = do_save_macro(admin.workspace, None, name="Close with thanks", template_id=thanks.pk,
                              actions=[{"type": "set_status", "value": "solved"}, {"type": "add_tags", "tags": ["done"]}])
    conversation = customer_writes(api_channel, "Is it done?").conversation
    client.force_login(light.user)
    assert client.post(f"/app/x/conversations/{conversation.pk}/macro", {"macro": macro.pk}, **FETCH).status_code == 403
    client.force_login(stranger.user)
    assert client.post(f"/app/x/conversations/{conversation.pk}/macro", {"macro": macro.pk}, **FETCH).status_code == 404
    client.force_login(admin.user)
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert "Close with thanks" in page
    answer = client.post(f"/app/x/conversations/{conversation.pk}/macro", {"macro": macro.pk}, **FETCH)
    assert answer.status_code == 200, answer.content
    conversation.refresh_from_db()
    assert conversation.status == "solved" and list(conversation.tags.values_list("name", flat=True)) == ["done"]
    run_jobs()
    assert json.loads(receiver.requests[-1].body)["text"] == "Thanks Dana Levi, all done."
    other = factories.make_workspace("Elsewhere")
    with transaction.atomic():
        foreign = do_save_macro(other.workspace, None, name="Theirs", actions=[{"type": "set_priority", "value": "high"}])
    assert client.post(f"/app/x/conversations/{conversation.pk}/macro", {"macro": foreign.pk},
                       **FETCH).status_code == 404


def test_the_slash_menu_lists_canned_replies_by_shortcut_and_inserts_the_rendered_body(signed_in, admin,
                                                                                        api_channel):
    with transaction.atomic():
        template = do_save_template(admin.workspace, None, name="Refund policy", kind="canned", shortcut="refund",
                                    variants=[{"language": "en", "text": "Hi {{ contact.name }}, refunds take 5 days."}])
        do_save_template(admin.workspace, None, name="Greeting", kind="canned",
                         variants=[{"language": "en", "text": "Hello!"}])
    conversation = customer_writes(api_channel, "Refund?").conversation
    html = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    assert f'<option value="{template.pk}" data-shortcut="refund" data-name="Refund policy">' in html
    assert 'data-shortcut="" data-name="Greeting"' in html  # no shortcut: listed by its title
    body = signed_in.get(f"/app/x/conversations/{conversation.pk}/canned/{template.pk}", **FETCH).json()
    assert body["text"] == "Hi Dana Levi, refunds take 5 days."

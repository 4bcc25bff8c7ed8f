"""Inbox views, counts, saved views, search, and the customer's whole timeline across channels."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from threadline.channels.webchat.actions import do_identify, do_receive_visitor_message, do_start_visitor
from threadline.channels.webchat.testkit import SECRET, make_webchat_channel
from threadline.channels.webchat.tokens import identity_token
from threadline.conversations.actions import do_add_note, do_send_reply, do_update_conversation
from threadline.conversations.models import Status
from threadline.tenancy.actions import do_create_team
from threadline.testing import factories
from threadline.web.actions import do_record_mentions
from threadline.web.tests.helpers import FETCH, customer_writes


@pytest.fixture
def api_channel(admin):
    return factories.make_api_channel(admin)


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin.user)
    return client


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="row [^"]*" data-conversation-id="(\d+)"', html)]


def test_views_list_the_right_conversations_and_counts_follow(signed_in, admin, api_channel):
    bob = factories.make_agent(admin, "bob@example.com")
    mine = customer_writes(api_channel, "Mine please", address="a@example.com").conversation
    bobs = customer_writes(api_channel, "For Bob", address="b@example.com").conversation
    waiting = customer_writes(api_channel, "Nobody yet", address="c@example.com").conversation
    solved = customer_writes(api_channel, "Done already", address="d@example.com").conversation
    with transaction.atomic():
        team = do_create_team(admin.workspace, "Billing", members=[admin])
        do_update_conversation(admin, mine, assignee=admin)
        do_update_conversation(admin, bobs, assignee=bob, team=team)
        do_update_conversation(admin, solved, status=Status.SOLVED)

    def listed(query: str) -> list[int]:
        return row_ids(signed_in.get(f"/app/x/list?{query}", **FETCH).content.decode())

    assert listed("view=mine") == [mine.pk]
    assert listed("view=unassigned") == [waiting.pk]
    assert listed("view=teams") == [bobs.pk]
    assert sorted(listed("view=all")) == sorted([mine.pk, bobs.pk, waiting.pk])
    assert listed("status=solved") == [solved.pk]
    assert listed(f"assignee={bob.pk}") == [bobs.pk]
    assert listed("sort=oldest&view=all") == [mine.pk, bobs.pk, waiting.pk]
    counts = signed_in.get("/app/x/counts", **FETCH).json()["counts"]
    assert counts == {"mine": 1, "unassigned": 1, "teams": 1, "all": 3, "mentions": 0}
    with transaction.atomic():
        do_update_conversation(admin, waiting, assignee=admin)
    counts = signed_in.get("/app/x/counts", **FETCH).json()["counts"]
    assert (counts["mine"], counts["unassigned"]) == (2, 0)


def test_channel_tag_language_and_priority_filters(signed_in, admin, api_channel):
    chat = make_webchat_channel(admin)
    by_mail = customer_writes(api_channel, "Mail question").conversation
    by_chat = customer_writes(chat, "Chat question", kind="visitor", address="v-1", name="").conversation
    with transaction.atomic():
        do_update_conversation(admin, by_chat, tags=["vip"], priority="urgent")
        by_mail.language = "he"
        by_mail.save()
    html = signed_in.get(f"/app/x/list?channel={chat.pk}", **FETCH).content.decode()
    assert row_ids(html) == [by_chat.pk]
    assert row_ids(signed_in.get("/app/x/list?tag=vip", **FETCH).content.decode()) == [by_chat.pk]
    assert row_ids(signed_in.get("/app/x/list?language=he", **FETCH).content.decode()) == [by_mail.pk]
    assert row_ids(signed_in.get("/app/x/list?priority=urgent", **FETCH).content.decode()) == [by_chat.pk]
    assert row_ids(signed_in.get("/app/x/list?view=all&sort=priority", **FETCH).content.decode()) == [
        by_chat.pk, by_mail.pk]


def test_saved_views_with_their_filters_sort_and_counts(signed_in, admin, api_channel, client):
    urgent = customer_writes(api_channel, "Urgent thing", address="u@example.com").conversation
    customer_writes(api_channel, "Normal thing", address="n@example.com")
    with transaction.atomic():
        do_update_conversation(admin, urgent, priority="urgent")
    saved = signed_in.post("/app/x/views", {"name": "Urgent ones", "priority": "urgent", "sort": "oldest",
                                            "shared": "1"}, **FETCH)
    view_id = saved.json()["id"]
    assert row_ids(signed_in.get(f"/app/x/list?saved={view_id}", **FETCH).content.decode()) == [urgent.pk]
    assert signed_in.get("/app/x/counts", **FETCH).json()["counts"][f"saved:{view_id}"] == 1
    bob = factories.make_agent(admin, "bob@example.com")
    client.force_login(bob.user)
    assert "Urgent ones" in client.get("/app/").content.decode()  # shared with the team
    assert client.post(f"/app/x/views/{view_id}/delete", **FETCH).status_code == 404  # only its owner deletes it
    stranger = factories.make_workspace("Other Co")
    client.force_login(stranger.user)
    assert row_ids(client.get(f"/app/x/list?saved={view_id}", **FETCH).content.decode()) == []


def test_mentions_view_lists_unread_mentions_until_seen(signed_in, admin, api_channel, client):
    bob = factories.make_agent(admin, "bob@example.com")
    conversation = customer_writes(api_channel, "Help").conversation
    note = signed_in.post(f"/app/x/conversations/{conversation.pk}/note",
                          {"text": "@Bob could you look at this?"}, **FETCH)
    assert note.json()["mentioned"] == [bob.pk]
    client.force_login(bob.user)
    assert client.get("/app/x/counts", **FETCH).json()["counts"]["mentions"] == 1
    assert row_ids(client.get("/app/x/list?view=mentions", **FETCH).content.decode()) == [conversation.pk]
    client.post(f"/app/x/conversations/{conversation.pk}/seen", **FETCH)
    assert client.get("/app/x/counts", **FETCH).json()["counts"]["mentions"] == 0


def test_the_timeline_shows_every_channel_and_earlier_conversations(signed_in, admin, api_channel):
    chat = make_webchat_channel(admin)
    first = customer_writes(api_channel, "Order 1001 is late", message_id="m-1").conversation
    with transaction.atomic():
        do_send_reply(admin, first, "It ships tomorrow.")
        do_update_conversation(admin, first, status=Status.CLOSED)
    second = customer_writes(api_channel, "Order 1002 now", message_id="m-2").conversation
    assert second.pk != first.pk
    with transaction.atomic():
        do_add_note(admin, second, "Same customer as #1")
    with transaction.atomic():
        visitor, _token = do_start_visitor(chat)
        do_identify(chat, visitor, token=identity_token(SECRET, "dana-1", email="dana@example.com"))
        do_receive_visitor_message(chat, visitor, client_id="c-1", text="Also asking on chat")
    html = signed_in.get(f"/app/x/conversations/{second.pk}", **FETCH).content.decode()
    for text in ("Order 1001 is late", "It ships tomorrow.", "Order 1002 now", "Same customer as #1",
                 "Also asking on chat"):
        assert text in html
    timeline = html[html.index('id="timeline"'):]
    assert timeline.index("Order 1001 is late") < timeline.index("Order 1002 now") < timeline.index("Also asking on chat")
    assert f'href="/app/c/{first.pk}/">Conversation #{first.pk}' in html
    assert 'data-kind="api"' in html and 'data-kind="webchat"' in html  # the channel of each message
    assert "changed the status from Open to Closed" in html
    assert "internal note" in html


def test_search_finds_conversations_messages_and_contacts(signed_in, admin, api_channel, run_jobs):
    conversation = customer_writes(api_channel, "My parcel to Brno is missing", name="Jiří Novák",
                                   address="jiri@example.cz").conversation
    customer_writes(api_channel, "Unrelated", address="x@example.com", name="Someone Else")
    run_jobs()  # the search index follows the messages' events
    html = signed_in.get("/app/search?q=brno", **FETCH).content.decode()
    assert f'/app/c/{conversation.pk}/' in html and "<mark>Brno</mark>" in html
    assert "Someone Else" not in html
    assert "Jiří Novák" in signed_in.get("/app/search?q=jiri@example.cz", **FETCH).content.decode()
    assert f"#{conversation.pk}" in signed_in.get(f"/app/search?q=%23{conversation.pk}", **FETCH).content.decode()


def test_another_workspace_sees_nothing(client, admin, api_channel, run_jobs):
    conversation = customer_writes(api_channel, "Private matter").conversation
    run_jobs()
    stranger = factories.make_workspace("Other Co")
    client.force_login(stranger.user)
    assert client.get(f"/app/c/{conversation.pk}/").status_code == 404
    assert client.get(f"/app/x/conversations/{conversation.pk}", **FETCH).json()["code"] == "conversation_not_found"
    assert "Private matter" not in client.get("/app/search?q=Private", **FETCH).content.decode()
    assert row_ids(client.get("/app/x/list?view=all", **FETCH).content.decode()) == []


def test_mentions_are_found_by_name_or_email(admin, api_channel):
    bob = factories.make_agent(admin, "bob.builder@example.com")
    with transaction.atomic():
        bob.user.name = "Bob Builder"
        bob.user.save()
        conversation = customer_writes(api_channel, "Help").conversation
        named = do_add_note(admin, conversation, "Ask @Bob Builder, he knows")
        by_mail = do_add_note(admin, conversation, "cc @bob.builder@example.com")
        nobody = do_add_note(admin, conversation, "email bob@bobbuilder.example.com or @Bobby")
        assert [m.membership_id for m in do_record_mentions(named)] == [bob.pk]
        assert [m.membership_id for m in do_record_mentions(by_mail)] == [bob.pk]
        assert do_record_mentions(nobody) == []


def test_the_sidebar_lists_tags_and_languages_of_recent_conversations(admin, api_channel):
    from threadline.web.queries import sidebar

    first = customer_writes(api_channel, "שלום, ההזמנה שלי לא הגיעה", address="dana@example.com").conversation
    customer_writes(api_channel, "Hello, my invoice is wrong", address="omar@example.com")
    with transaction.atomic():
        do_update_conversation(admin, first, tags=["vip", "shipping"])
    first.__class__.objects.filter(pk=first.pk).update(language="he")
    admin.workspace.languages = ["cs"]
    side = sidebar(admin)
    assert {t.name: t.n for t in side["tags"]} == {"vip": 1, "shipping": 1}
    assert {"he", "cs"} <= set(side["languages"])

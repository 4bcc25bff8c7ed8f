"""Fixture replay of Meta's public webhooks (Page feed, Instagram comments and mentions): stored as public items
with their thread, triaged, refused when signed wrong or addressed to another Page, and answered, moved to
private, hidden and deleted through a local Graph API."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.db import transaction

from threadline.channels.messenger.tests.test_messenger_channel import fixture
from threadline.channels.models import InboundEvent
from threadline.channels.whatsapp.tests.helpers import meta_post
from threadline.contacts.actions import do_add_identity, do_create_contact
from threadline.conversations.models import Message
from threadline.events.models import OutboxEvent
from threadline.social import actions
from threadline.social.models import ActionState, ItemStatus, PublicAction, PublicItem
from threadline.social.tests.helpers import (
    COMMENT,
    DANA_ASID,
    DANA_PSID,
    IG,
    PAGE,
    POST,
    comment,
    deliver,
    ig_comment,
    meta_channel,
)
from threadline.testing.factories import make_agent

NOON = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def test_page_post_comment_reply_thread(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "messenger", graph.url)
    deliver(client, run_jobs, channel, fixture("feed_post.json"))
    deliver(client, run_jobs, channel, comment())
    deliver(client, run_jobs, channel, comment(comment="826491029384756_1092837465019290", parent=COMMENT,
                                               author="3920193847561111", author_name="Omer Katz",
                                               message="Same here, my order never came"))
    post, first, reply = PublicItem.objects.order_by("id")
    assert (post.kind, post.own, post.external_id, post.status) == ("post", True, POST, ItemStatus.ANSWERED)
    assert (first.kind, first.parent, first.root_external_id) == ("comment", post, POST)
    assert (first.author_kind, first.author_address, first.author_name) == ("messenger", DANA_ASID, "Dana Levi")
    assert first.url == f"https://www.facebook.com/{COMMENT}"
    assert first.posted_at == dt.datetime(2026, 12, 4, 11, 0, tzinfo=dt.UTC)
    assert (reply.kind, reply.parent) == ("reply", first)
    assert first.category == "complaint" and first.sentiment < 0 and first.reasons and first.decision
    assert not first.known_customer and first.contact is None
    received = OutboxEvent.objects.filter(type="social.item_received").order_by("id")
    assert [e.payload["item_id"] for e in received] == [first.pk, reply.pk]  # not our own post
    payload = received[0].payload
    assert payload["channel_kind"] == "facebook" and payload["category"] == "complaint"
    assert payload["created_at"] == "2026-12-04T11:00:00+00:00" and isinstance(payload["topics"], list)
    assert Message.objects.count() == 0  # a public item is not a conversation until someone acts on it
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}
    deliver(client, run_jobs, channel, comment(), status=200)  # the same delivery again: a duplicate
    assert PublicItem.objects.count() == 3


def test_edit_hide_and_remove_follow_the_item(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "messenger", graph.url)
    deliver(client, run_jobs, channel, comment())
    deliver(client, run_jobs, channel, fixture("feed_comment_edited.json"))
    item = PublicItem.objects.get()
    assert item.text.endswith("Edit: still waiting.") and item.edited_at is not None
    deliver(client, run_jobs, channel, comment(comment="826491029384756_1092837465019299",
                                               author="7301928374650912", author_name="Promo Bot",
                                               message="Cheap followers!!! visit http://spam.example"))
    deliver(client, run_jobs, channel, fixture("feed_comment_hidden.json"))
    assert PublicItem.objects.get(external_id="826491029384756_1092837465019299").hidden
    deliver(client, run_jobs, channel, fixture("feed_comment_removed.json"))
    assert PublicItem.objects.get(pk=item.pk).removed


def test_signature_and_page_are_checked(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "messenger", graph.url)
    body = comment()
    assert meta_post(client, channel, body, secret="not-the-app-secret").status_code == 401
    assert meta_post(client, channel, body, signature="").status_code == 401
    assert meta_post(client, channel, body.replace(b"Terrible", b"Great"), signature=None,
                     secret="x" * 26).status_code == 401
    assert InboundEvent.objects.count() == 0
    # signed by this app, but for a Page no channel of ours owns: kept as "needs attention", applied nowhere
    other = comment(page="999999999999999")
    response = meta_post(client, channel, other)
    assert response.status_code == 202
    run_jobs()
    parked = InboundEvent.objects.get()
    assert parked.state == "failed" and parked.error_code == "no_channel" and "999999999999999" in parked.error
    assert PublicItem.objects.count() == 0
    # inside our Page's entry, a change about another Page's post: not applied, kept with the reason
    deliver(client, run_jobs, channel, comment().replace(POST.encode(), b"999999999999999_826491029384756"))
    odd = InboundEvent.objects.exclude(pk=parked.pk).get()
    assert odd.state == "failed" and odd.error_code == "invalid_payload" and "another Page" in odd.error
    assert PublicItem.objects.count() == 0
    # a Page of another workspace, signed with that workspace's own secret, does not reach ours either
    from threadline.testing.factories import make_workspace

    theirs = meta_channel(make_workspace("Other"), "messenger", graph.url, page="999999999999999",
                          secret="their-app-secret-0123456789")
    assert meta_post(client, theirs, other).status_code == 401
    assert PublicItem.objects.count() == 0


def test_instagram_comments_and_mentions(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "instagram", graph.url)
    deliver(client, run_jobs, channel, ig_comment())
    deliver(client, run_jobs, channel, ig_comment(comment="17865799348089040", parent="17865799348089039",
                                                  author="5432100000000001", username="petr.svoboda",
                                                  text="Also in Ostrava?"))
    deliver(client, run_jobs, channel, fixture("instagram_mention.json"))
    first, reply, mention = PublicItem.objects.order_by("id")
    assert (first.source, first.kind, first.author_kind, first.author_handle) == (
        "instagram", "comment", "instagram", "jana.novakova")
    assert first.parent_external_id == first.root_external_id == "18034928374650192"
    assert (reply.kind, reply.parent) == ("reply", first)
    assert (mention.kind, mention.external_id, mention.author_handle) == ("mention", "17894227972186120",
                                                                         "jana.novakova")
    assert mention.text.startswith("@threadline.coffee where can I buy")
    assert mention.url == "https://www.instagram.com/p/DBx4mQ1Nq7e/"
    read = graph.calls("GET", f"/{IG}")[0]
    assert read.query["fields"][0].startswith("mentioned_comment.comment_id(17894227972186120)")
    assert read.headers["authorization"] == "Bearer EAAG-page-token"
    # answering: a reply to a reply goes under its top-level comment; a mention through /{ig-user-id}/mentions
    with transaction.atomic():
        actions.do_reply_public(admin, reply, "Yes, in Ostrava too!")
        actions.do_reply_public(admin, mention, "Ahoj! In Brno at Zelný trh 4.")
    run_jobs()
    assert graph.calls("POST", "/17865799348089039/replies")[0].json() == {"message": "Yes, in Ostrava too!"}
    sent = graph.calls("POST", f"/{IG}/mentions")[0].json()
    assert sent == {"comment_id": "17894227972186120", "media_id": "17887498072083520",
                    "message": "Ahoj! In Brno at Zelný trh 4."}
    assert set(PublicAction.objects.values_list("state", flat=True)) == {ActionState.DONE}


def test_known_customer_from_identity(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "messenger", graph.url)
    with transaction.atomic():
        dana = do_create_contact(admin.workspace, name="Dana Levi")
        do_add_identity(dana, "messenger", DANA_ASID, verified=True, source="agent")
    deliver(client, run_jobs, channel, comment())
    item = PublicItem.objects.get()
    assert item.known_customer and item.contact == dana


def test_public_reply_hide_and_delete(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "messenger", graph.url)
    deliver(client, run_jobs, channel, comment())
    item = PublicItem.objects.get()
    with transaction.atomic():
        actions.do_reply_public(admin, item, "We are sorry, Dana. We are on it.")
    run_jobs()
    call = graph.calls("POST", f"/{COMMENT}/comments")[0]
    assert call.json() == {"message": "We are sorry, Dana. We are on it."}
    assert call.headers["authorization"] == "Bearer EAAG-page-token"
    item.refresh_from_db()
    assert item.status == ItemStatus.ANSWERED
    ours = item.children.get()
    assert ours.own and ours.external_id == "826491029384756_2000000000000001"
    # Meta's webhook for our own reply comes back: the same item, not a second one, and not triaged
    deliver(client, run_jobs, channel, comment(comment=ours.external_id, parent=COMMENT, author=PAGE,
                                               author_name="Threadline Coffee", message="We are sorry, Dana."))
    assert item.children.count() == 1
    # a reply written on the Page itself (not through Threadline) answers an open comment too
    deliver(client, run_jobs, channel, comment(comment="826491029384756_1092837465019300", author="5100000000000001",
                                               author_name="Noa Ben", message="Where is my refund?"))
    other = PublicItem.objects.get(external_id="826491029384756_1092837465019300")
    deliver(client, run_jobs, channel, comment(comment="826491029384756_2000000000000099", parent=other.external_id,
                                               author=PAGE, author_name="Threadline Coffee", message="Sent today!"))
    assert PublicItem.objects.get(pk=other.pk).status == ItemStatus.ANSWERED
    with transaction.atomic():
        actions.do_moderate(admin, item, "hide", reason="personal data in public")
    run_jobs()
    assert graph.calls("POST", f"/{COMMENT}")[0].json() == {"is_hidden": True}
    item.refresh_from_db()
    assert item.hidden and item.status == ItemStatus.HIDDEN
    with transaction.atomic():
        actions.do_moderate(admin, item, "delete")
    run_jobs()
    assert len(graph.calls("DELETE", f"/{COMMENT}")) == 1
    assert PublicItem.objects.get(pk=item.pk).status == ItemStatus.DELETED


def test_provider_refusal_is_shown_on_the_action(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "messenger", graph.url)
    deliver(client, run_jobs, channel, comment())
    graph.route("POST", f"/{COMMENT}", 400, {"error": {"message": "(#10) Permission denied", "code": 10}})
    with transaction.atomic():
        action = actions.do_moderate(admin, PublicItem.objects.get(), "hide")
    run_jobs()
    action.refresh_from_db()
    assert action.state == ActionState.FAILED and "Permission denied" in action.error
    assert PublicItem.objects.get().status == ItemStatus.OPEN


@time_machine.travel(NOON, tick=False)
def test_private_reply_threads_the_answer_into_the_same_conversation(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "messenger", graph.url)
    deliver(client, run_jobs, channel, comment())
    item = PublicItem.objects.get()
    agent = make_agent(admin, "noa@example.com")
    with transaction.atomic():
        action = actions.do_move_private(agent, item, "Hi Dana, please send us your order number here.")
    run_jobs()
    sent = graph.calls("POST", f"/{PAGE}/messages")[0].json()
    assert sent == {"recipient": {"comment_id": COMMENT},
                    "message": {"text": "Hi Dana, please send us your order number here."}}
    item.refresh_from_db()
    conversation = item.conversation
    assert item.status == ItemStatus.PRIVATE and conversation.contact == item.contact
    first, private = conversation.messages.order_by("id")
    assert first.metadata["public_item"]["id"] == item.pk and first.direction == "in"
    assert private.pk == action.message_id and private.status == "sent"
    assert private.provider_message_id.startswith("m_PRIVATEREPLY")
    identities = set(conversation.contact.identities.values_list("kind", "address"))
    assert identities == {("messenger", DANA_ASID), ("messenger", DANA_PSID)}  # Meta named her Page-scoped id
    # Dana answers in Messenger (from her Page-scoped id): the same contact, the same conversation
    deliver(client, run_jobs, channel, fixture("text.json"))
    answer = Message.objects.get(text="Hi! Is the store open on Saturday?")
    assert answer.conversation == conversation
    assert {e.kind for e in conversation.events.all()} >= {"social_linked", "social_private_reply"}
    client.force_login(agent.user)
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert page.count(f'href="/app/social/{item.pk}"') == 2  # the comment and the private reply name it
    assert "Private reply to a public comment" in page and "answered a public comment privately" in page
    # one private reply per comment
    with transaction.atomic():
        try:
            actions.do_move_private(agent, item, "again")
        except Exception as exc:  # noqa: BLE001
            assert getattr(exc, "code", "") == "private_reply_sent"
        else:
            raise AssertionError("a second private reply was accepted")


@time_machine.travel(NOON, tick=False)
def test_instagram_private_reply_and_hide(client, admin, run_jobs, graph):
    channel = meta_channel(admin, "instagram", graph.url)
    # the reply arrives before the comment it answers: the thread is joined when the comment comes
    deliver(client, run_jobs, channel, ig_comment(comment="17865799348089040", parent="17865799348089039",
                                                  author="5432100000000001", username="petr.svoboda",
                                                  text="Also in Ostrava?"))
    deliver(client, run_jobs, channel, ig_comment())
    reply, first = PublicItem.objects.order_by("id")
    assert PublicItem.objects.get(pk=reply.pk).parent == first
    graph.route("POST", f"/{IG}/messages", 200, fixture("private_reply_response.json", psid="5432109876543210"),
                {"Content-Type": "application/json"})
    graph.route("POST", "/17865799348089039", 200, fixture("success.json"), {"Content-Type": "application/json"})
    with transaction.atomic():
        actions.do_move_private(admin, first, "Ahoj Jano, napíšeme vám sem.")
        actions.do_moderate(admin, first, "hide")
    run_jobs()
    assert graph.calls("POST", f"/{IG}/messages")[0].json() == {
        "recipient": {"comment_id": "17865799348089039"}, "message": {"text": "Ahoj Jano, napíšeme vám sem."}}
    assert graph.calls("POST", "/17865799348089039")[0].json() == {"hide": True}
    first.refresh_from_db()
    assert first.hidden and first.conversation is not None
    # the same Instagram-scoped id writes in Direct: the same conversation
    deliver(client, run_jobs, channel, fixture("instagram_text.json"))
    assert Message.objects.filter(conversation=first.conversation, direction="in").count() == 2

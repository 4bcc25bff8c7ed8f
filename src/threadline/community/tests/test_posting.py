"""Posting in the community through the real HTTP stack: signing in by a mailed one-time link, a new member's
first post held until a moderator approves it, replies, sizes, throttles and CSRF."""

from __future__ import annotations

import pytest
from django.test import Client

from threadline.community.models import CommunityMember, Post, Topic
from threadline.community.testkit import agent_client, make_forum, reply, sign_in, start_topic
from threadline.contacts.models import ContactIdentity
from threadline.testing.mailbox import link_in, wait_for_mail

pytestmark = pytest.mark.django_db


def test_a_customer_signs_in_by_a_mailed_link_and_their_first_post_waits_for_a_moderator(client, admin, system_mail):
    forum, category = make_forum(admin)
    assert client.post("/community/acme/signin", {"email": "Dana@Example.com", "name": "Dana"}).status_code == 200
    link = link_in(wait_for_mail(system_mail)[0], "community/acme/signin")
    assert "Sign in" in client.get(link).content.decode()  # a GET does not use the link up
    assert client.post(link).status_code == 302
    assert client.post(link).status_code == 404  # once only
    member = CommunityMember.objects.get(workspace=admin.workspace)
    identity = ContactIdentity.objects.get(contact=member.contact, kind="email")
    assert (identity.address, identity.verified, member.display_name) == ("dana@example.com", True, "Dana")

    topic_id = start_topic(client, forum, category, "Refund for a double charge?", "I was charged **twice**.")
    assert Topic.objects.get(pk=topic_id).approved is False
    assert "Waiting for a moderator" in client.get(f"/community/acme/t/{topic_id}/").content.decode()
    assert Client().get(f"/community/acme/t/{topic_id}/").status_code == 404
    assert "Refund for a double charge" not in Client().get("/community/acme/").content.decode()

    moderator = agent_client(admin)
    queue = moderator.get("/app/community").content.decode()
    assert "Refund for a double charge" in queue
    first = Post.objects.get(topic_id=topic_id)
    assert moderator.post(f"/app/community/posts/{first.pk}/approve").status_code == 302
    page = Client().get(f"/community/acme/t/{topic_id}/").content.decode()
    assert "<strong>twice</strong>" in page
    member.refresh_from_db()
    assert member.trusted
    assert reply(client, forum, topic_id, "Still waiting.")["held"] is False  # trusted from now on


def test_an_agent_answers_publicly_with_the_agent_badge(client, admin):
    forum, category = make_forum(admin)
    sign_in(client, forum, "erin@example.com", "Erin")
    topic_id = start_topic(client, forum, category, "Where is my parcel?", "Ordered last week.")
    Topic.objects.filter(pk=topic_id).update(approved=True)
    agent = agent_client(admin)
    assert reply(agent, forum, topic_id, "It left our warehouse today.")["held"] is False
    page = Client().get(f"/community/acme/t/{topic_id}/").content.decode()
    assert "It left our warehouse today." in page and 'class="badge agent"' in page


def test_posting_needs_a_member_and_refuses_bad_input_with_clear_4xx(client, admin):
    forum, category = make_forum(admin)
    anonymous = client.post("/community/acme/new", {"category": category.pk, "title": "x", "body": "y"})
    assert anonymous.status_code == 302 and "/signin" in anonymous["Location"]
    sign_in(client, forum, "finn@example.com")
    too_long = client.post("/community/acme/new", {"category": category.pk, "title": "Long", "body": "x" * 20_001},
                           HTTP_ACCEPT="application/json")
    assert too_long.status_code == 400 and too_long.json()["code"] == "too_long"
    empty = client.post("/community/acme/new", {"category": category.pk, "title": " ", "body": "Body"},
                        HTTP_ACCEPT="application/json")
    assert empty.status_code == 400 and empty.json()["code"] == "title_required"
    assert client.get("/community/nowhere/").status_code == 404
    scripted = start_topic(client, forum, category, "Script", "<script>alert(1)</script> [x](javascript:alert(1))")
    html = Post.objects.get(topic_id=scripted).body_html
    assert "<script" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html


def test_posting_is_throttled_per_member(client, admin):
    forum, category = make_forum(admin)
    sign_in(client, forum, "gil@example.com")
    for n in range(5):
        start_topic(client, forum, category, f"Question {n}", "Body")
    sixth = client.post("/community/acme/new", {"category": category.pk, "title": "Sixth", "body": "Body"},
                        HTTP_ACCEPT="application/json")
    assert sixth.status_code == 429 and sixth.json()["code"] == "rate_limited" and int(sixth["Retry-After"]) > 0


def test_forms_need_the_csrf_token(admin):
    make_forum(admin)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/community/acme/signin", {"email": "hana@example.com"}).status_code == 403


def test_sign_in_links_to_one_address_are_limited(admin, system_mail):
    make_forum(admin)
    for n in range(5):
        assert Client().post("/community/acme/signin", {"email": "ivy@example.com"}).status_code == 200, n
    sixth = Client().post("/community/acme/signin", {"email": "IVY@example.com"}, HTTP_ACCEPT="application/json")
    assert (sixth.status_code, sixth.json()["code"]) == (429, "rate_limited")
    assert len(wait_for_mail(system_mail, 5)) == 5

"""Erasing a contact removes their community member with what they wrote (topics, posts, votes, reports,
follows, sign-in links), and the search index no longer finds or holds their words."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from threadline.community.models import CommunityMember, Post, SignInLink, Topic
from threadline.community.search import search_topic_ids
from threadline.community.testkit import make_forum, reply, sign_in, start_topic
from threadline.privacy.erasure import do_erase_contact
from threadline.search.models import SearchTerm

pytestmark = pytest.mark.django_db


def test_erasing_a_contact_removes_their_posts_and_their_words_from_the_search(client, admin):
    forum, category = make_forum(admin)
    other = Client()
    leaving, staying = sign_in(client, forum, "zoe@example.com"), sign_in(other, forum, "yael@example.com")
    CommunityMember.objects.update(trusted=True)
    own = start_topic(client, forum, category, "Zoe asks about pelicans", "Pelicans everywhere")
    shared = start_topic(other, forum, category, "Delivery times", "How long does delivery take?")
    reply(client, forum, shared, "Mine took flamingoquick three days")
    reply(other, forum, own, "Same here")
    assert search_topic_ids(admin.workspace_id, "flamingoquick", limit=5) == [shared]

    with transaction.atomic():
        counts = do_erase_contact(leaving.contact)
    assert counts["community.CommunityMember"] == 1
    assert not CommunityMember.objects.filter(pk=leaving.pk).exists()
    assert not SignInLink.objects.filter(email="zoe@example.com").exists()
    assert not Topic.objects.filter(pk=own).exists()
    assert list(Post.objects.filter(topic_id=shared).values_list("author_id", flat=True)) == [staying.pk]
    assert search_topic_ids(admin.workspace_id, "flamingoquick", limit=5) == []
    assert search_topic_ids(admin.workspace_id, "pelicans", limit=5) == []
    assert search_topic_ids(admin.workspace_id, "delivery", limit=5) == [shared]
    assert not SearchTerm.objects.filter(term__in=["flamingoquick", "pelicans"]).exists()
    assert "flamingoquick" not in Client().get(f"/community/{forum.slug}/t/{shared}/").content.decode()

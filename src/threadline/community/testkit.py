"""Builders for community tests: a forum with a category, members signed in the way customers sign in (a
one-time link through the real views), agents' clients. Used by community/tests and tests/test_browser_*."""

from __future__ import annotations

from django.db import transaction
from django.test import Client

from threadline.community import actions
from threadline.community.models import Category, CommunityMember, Forum
from threadline.tenancy.models import Membership


def make_forum(admin: Membership, slug: str = "acme", name: str = "Acme community",
               category: str = "Billing") -> tuple[Forum, Category]:
    with transaction.atomic():
        forum = actions.do_create_forum(admin, name=name, slug=slug)
        return forum, actions.do_create_category(admin, forum, name=category)


def sign_in(client: Client, forum: Forum, email: str, name: str = "") -> CommunityMember:
    """Sign `client` in as the member behind `email`, by a one-time link used through the views."""
    with transaction.atomic():
        raw = actions.do_request_sign_in(forum, email, name)
    response = client.post(f"/community/{forum.slug}/signin/{raw}")
    assert response.status_code == 302, response.content
    return CommunityMember.objects.get(workspace_id=forum.workspace_id, email=email.lower())


def agent_client(agent: Membership) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def start_topic(client: Client, forum: Forum, category: Category, title: str, body: str) -> int:
    response = client.post(f"/community/{forum.slug}/new", {"category": category.pk, "title": title, "body": body},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return response.json()["topic_id"]


def reply(client: Client, forum: Forum, topic_id: int, body: str) -> dict:
    response = client.post(f"/community/{forum.slug}/t/{topic_id}/reply", {"body": body},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return response.json()

"""GET /api/v1/search: ranked hits with highlighted snippets, paging with a cap, {code, message} errors, every
role that may see conversations, and never another workspace's documents."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.conversations.actions import do_add_note
from threadline.search.tests.builders import drain, writes
from threadline.tenancy.models import Role
from threadline.testing import factories

URL = "/api/v1/search"


def get(client, token: str, **query):
    response = client.get(URL, query, HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.status_code, response.json()


@pytest.fixture
def channel(admin):
    return factories.make_api_channel(admin)


def test_hits_are_ranked_across_kinds_with_highlighted_snippets(client, admin, channel, token):
    body = writes(channel, "Paní Dvořáková: the refund has not arrived", subject="Payment", address="j@example.cz",
                  name="Jana Dvořáková")
    titled = writes(channel, "hello", subject="Refund please", address="k@example.com", name="Karel")
    status, page = get(client, token, q="refund")
    assert status == 200
    assert [(i["kind"], i["id"]) for i in page["items"]] == [("conversation", titled.conversation_id),
                                                             ("message", body.pk)]
    message = page["items"][1]
    assert message["conversation_id"] == body.conversation_id and message["title"] == "Payment"
    assert [p["text"] for p in message["snippet"] if p["match"]] == ["refund"]
    assert page["next_offset"] is None and page["corrected"] is False
    status, page = get(client, token, q="dvorakova", kind="contact")
    assert [i["id"] for i in page["items"]] == [body.conversation.contact_id]
    assert [p["text"] for p in page["items"][0]["snippet"] if p["match"]] == ["Dvořáková"]


def test_notes_are_marked_internal_and_typos_are_corrected(client, admin, channel, token):
    message = writes(channel, "where is my parcel")
    with transaction.atomic():
        note = do_add_note(admin, message.conversation, "tracking says delivered")
    drain()
    status, page = get(client, token, q="tracknig", kind="message")
    assert status == 200 and page["corrected"] is True
    assert [(i["id"], i["internal"]) for i in page["items"]] == [(note.pk, True)]


def test_offset_paging_stops_at_the_last_page_and_at_the_cap(client, admin, channel, token):
    ids = [writes(channel, f"invoice number {n}", address=f"c{n}@example.com").pk for n in range(3)]
    _, first = get(client, token, q="invoice", kind="message", limit=2)
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    _, second = get(client, token, q="invoice", kind="message", limit=2, offset=2)
    assert len(second["items"]) == 1 and second["next_offset"] is None
    assert sorted(i["id"] for i in first["items"] + second["items"]) == sorted(ids)
    status, error = get(client, token, q="invoice", limit=50, offset=460)
    assert (status, error["code"]) == (400, "invalid_offset") and error["message"]


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "x" * 201}, {"q": "a", "kind": "article"},
                                   {"q": "a", "limit": 0}, {"q": "a", "offset": -1}])
def test_bad_queries_answer_422_with_a_code(client, admin, token, query):
    status, error = get(client, token, **query)
    assert status == 422 and error["code"] == "invalid" and error["message"]


@pytest.mark.parametrize("q", ["!!! ???", '" OR "x" NEAR(', "x' | !y:* & (", "NOT AND OR", "*", "ـــ ّ"])
def test_query_syntax_of_either_database_is_plain_text(client, admin, token, q):
    assert get(client, token, q=q) == (200, {"items": [], "next_offset": None, "corrected": False})


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT, Role.LIGHT_AGENT])
def test_every_role_that_sees_conversations_may_search(client, admin, channel, role):
    message = writes(channel, "lost luggage")
    person = admin if role == Role.ADMIN else factories.make_agent(admin, f"{role}@example.com", role=role)
    status, page = get(client, factories.make_token(person), q="luggage", kind="message")
    assert status == 200 and [i["id"] for i in page["items"]] == [message.pk]


def test_without_a_token_the_answer_is_401(client, db):
    response = client.get(URL, {"q": "x"})
    assert response.status_code == 401 and response.json()["code"]


def test_another_workspace_never_sees_the_documents(client, admin, channel):
    writes(channel, "secret merger plans", name="Insider Ida", address="ida@example.com")
    other = factories.make_workspace("Other Co")
    theirs = writes(factories.make_api_channel(other), "public merger news", address="news@example.com")
    status, page = get(client, factories.make_token(other), q="merger")
    assert status == 200 and [(i["kind"], i["id"]) for i in page["items"] if i["kind"] == "message"] == \
        [("message", theirs.pk)]
    assert get(client, factories.make_token(other), q="insider")[1]["items"] == []
    assert get(client, factories.make_token(other), q="secrte")[1]["items"] == []

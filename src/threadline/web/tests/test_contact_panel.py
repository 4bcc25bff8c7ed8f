"""The contact panel: web-chat visitors by a readable name and with their context (page, pages seen, browser,
language, the site's attributes), merge suggestions that show who the candidate is, and merging by search."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from threadline.channels.webchat.testkit import Widget, make_webchat_channel
from threadline.channels.webchat.visitor_context import browser_summary
from threadline.contacts.models import Contact, MergeSuggestion
from threadline.conversations.models import Conversation
from threadline.tenancy.models import Role
from threadline.testing import factories
from threadline.web.tests.helpers import FETCH, customer_writes

CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def chat(admin):
    return make_webchat_channel(admin)


def visitor_writes(chat, text: str, pages: tuple[str, ...] = ("https://shop.example/cart",)) -> Conversation:
    widget = Widget(Client(HTTP_USER_AGENT=CHROME_ON_WINDOWS), chat)
    for page in pages:
        answer = widget.post("session", {"token": widget.token, "page_url": page, "locale": "he-IL"})
        assert answer.status_code == 200, answer.content
        widget.token = answer.json()["token"]
    widget.post("attributes", {"attributes": {"plan": "pro"}})
    assert widget.say(text, "c1").status_code in (200, 201)
    return Conversation.objects.filter(workspace_id=chat.workspace_id).latest("id")


def test_a_visitor_is_named_by_where_they_are_and_shown_with_their_context(signed_in, chat):
    conversation = visitor_writes(chat, "Is shipping free?",
                                  pages=("https://shop.example/", "https://shop.example/pricing?ref=ad",
                                         "https://shop.example/checkout"))
    listing = signed_in.get("/app/x/list", **FETCH).content.decode()
    assert "Visitor from shop.example/checkout" in listing
    assert not re.search(r"Visitor [0-9a-f]{6}<", listing)  # no hex id
    panel = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    panel = panel[panel.index('id="contact-panel"'):]
    assert "Current page" in panel and 'href="https://shop.example/checkout"' in panel
    assert "3 pages seen" in panel and "shop.example/pricing" in panel
    assert "Chrome 131 · Windows" in panel
    assert ">he-IL<" in panel
    assert "plan" in panel and "pro" in panel  # the site's attribute
    assert "anonymous" in panel


def test_a_visitor_who_left_an_email_is_shown_by_it(signed_in, chat):
    widget = Widget(Client(), chat).start()
    widget.post("details", {"email": "noa@example.com"})
    widget.say("Ping", "c1")
    assert "noa@example.com" in signed_in.get("/app/x/list", **FETCH).content.decode()


def test_browser_summaries():
    assert browser_summary(CHROME_ON_WINDOWS) == "Chrome 131 · Windows"
    assert browser_summary("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0") == "Firefox 128 · Linux"
    assert browser_summary("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                           "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1") == "Safari 17 · iOS"
    assert browser_summary("") == ""


def test_suggestions_show_the_candidates_identities_last_conversation_and_why(signed_in, admin):
    channel = factories.make_api_channel(admin)
    mine = customer_writes(channel, "New question", address="dana@work.example").conversation
    theirs = customer_writes(channel, "Old order", address="dana@home.example",
                             subject="Order 1234 never arrived").conversation
    assert MergeSuggestion.objects.filter(workspace_id=admin.workspace_id).count() == 1  # same name, two emails
    panel = signed_in.get(f"/app/x/conversations/{mine.pk}", **FETCH).content.decode()
    panel = panel[panel.index('class="suggestions"'):]
    assert "dana@home.example" in panel
    assert f'href="/app/c/{theirs.pk}/"' in panel and "Order 1234 never arrived" in panel
    assert "Why:" in panel and 'class="reasons"' in panel and "Not the same" in panel


def test_merging_by_search_lists_matching_customers_of_this_workspace_only(client, signed_in, admin, run_jobs):
    channel = factories.make_api_channel(admin)
    here = customer_writes(channel, "Hi", address="dana@work.example").conversation
    other = customer_writes(channel, "Refund", address="dana.levi@gmail.example", name="D. Levi",
                            subject="Refund for order 77").conversation
    customer_writes(channel, "Unrelated", address="moshe@example.com", name="Moshe")
    stranger = factories.make_workspace("Other Co")
    foreign = customer_writes(factories.make_api_channel(stranger), "Elsewhere", address="dana.levi@gmail.example",
                              name="D. Levi").conversation
    run_jobs()  # the search index follows the contacts' events

    found = signed_in.get(f"/app/x/contacts/{here.contact_id}/candidates?q=levi&back=/app/c/{here.pk}/",
                          **FETCH).content.decode()
    assert "dana.levi@gmail.example" in found and "Refund for order 77" in found
    assert f'name="source" value="{other.contact_id}"' in found
    assert f'value="{foreign.contact_id}"' not in found and "Moshe" not in found
    assert f'value="{here.contact_id}"' not in found  # never itself
    assert "No other customer matches" in signed_in.get(
        f"/app/x/contacts/{here.contact_id}/candidates?q=nobody", **FETCH).content.decode()

    # without JavaScript the panel's search form reloads the page with the results
    page = signed_in.get(f"/app/c/{here.pk}/?merge_q=levi").content.decode()
    assert f'name="source" value="{other.contact_id}"' in page

    merged = signed_in.post(f"/app/x/contacts/{here.contact_id}/merge", {"source": other.contact_id}, **FETCH)
    assert merged.status_code == 200
    assert Contact.objects.get(pk=other.contact_id).merged_into_id == here.contact_id
    panel = signed_in.get(f"/app/x/conversations/{here.pk}", **FETCH).content.decode()
    assert "dana.levi@gmail.example" in panel[panel.index('id="contact-panel"'):]  # the panel shows the merge

    client.force_login(stranger.user)
    assert client.get(f"/app/x/contacts/{here.contact_id}/candidates?q=levi", **FETCH).status_code == 404


def test_a_light_agent_can_search_but_not_merge(client, admin, run_jobs):
    channel = factories.make_api_channel(admin)
    here = customer_writes(channel, "Hi", address="a@example.com", name="Ann").conversation
    other = customer_writes(channel, "Hi", address="ann@example.org", name="Ann B").conversation
    run_jobs()
    light = factories.make_agent(admin, "light@example.com", role=Role.LIGHT_AGENT)
    client.force_login(light.user)
    assert "ann@example.org" in client.get(f"/app/x/contacts/{here.contact_id}/candidates?q=ann",
                                           **FETCH).content.decode()
    answer = client.post(f"/app/x/contacts/{here.contact_id}/merge", {"source": other.contact_id}, **FETCH)
    assert answer.status_code == 403
    assert Contact.objects.get(pk=other.contact_id).merged_into_id is None

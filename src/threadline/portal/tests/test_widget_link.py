"""The chat widget's "See all your requests": a visitor the site identified opens the portal signed in as their
contact, with a short-lived single-use link; an anonymous visitor gets nothing."""

from __future__ import annotations

from django.test import Client

from threadline.channels.webchat.testkit import Widget, make_webchat_channel
from threadline.portal.models import SignInLink


def test_an_identified_visitor_opens_the_portal_signed_in(client, admin):
    channel = make_webchat_channel(admin)
    widget = Widget(client, channel).start()
    assert widget.identify("user-42", email="dana@example.com", name="Dana Levi").status_code == 200
    widget.say("Where is my parcel?", "c-1")
    answer = widget.post("portal-link", {})
    assert answer.status_code == 200, answer.content
    url = answer.json()["url"]
    assert SignInLink.objects.get().purpose == "widget"
    browser = Client()
    path = url.split("://", 1)[1].split("/", 1)[1]
    opened = browser.get("/" + path)
    assert opened.status_code == 302 and opened["Location"] == f"/portal/{admin.workspace.slug}/"
    assert "Where is my parcel?" in browser.get(opened["Location"]).content.decode()
    assert Client().get("/" + path).status_code == 400  # single use


def test_an_anonymous_visitor_gets_no_portal_link(client, admin):
    channel = make_webchat_channel(admin)
    widget = Widget(client, channel).start()
    widget.say("Hello", "c-1")
    answer = widget.post("portal-link", {})
    assert answer.status_code == 403 and answer.json()["code"] == "not_identified"
    forged = Widget(client, channel, widget.token[:-4] + "0000")
    assert forged.post("portal-link", {}).status_code == 404
    assert SignInLink.objects.count() == 0

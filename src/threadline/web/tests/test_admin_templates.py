"""The Message templates screen (/app/admin/templates): automatic replies and notifications with language
variants, and WhatsApp templates as synced from a Graph API on loopback (Meta's documented HTTP boundary)."""

from __future__ import annotations

import pytest

from threadline.channels.fake_provider import FakeProvider
from threadline.channels.whatsapp.models import MessageTemplate
from threadline.channels.whatsapp.tests.helpers import WABA_ID, fixture, make_whatsapp_channel
from threadline.replies.models import Template
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in

URL = "/app/admin/templates"


def _template(**extra):
    return {"name": "We got your message", "kind": "automatic", "is_active": "1",
            "language_0": "en", "subject_0": "Re: {{conversation.subject}}", "text_0": "Thanks, we answer within a day.",
            "language_1": "cs", "subject_1": "", "text_1": "Děkujeme, odpovíme do druhého dne.", **extra}


@pytest.fixture
def graph():
    fake = FakeProvider().start()
    fake.route("GET", f"/{WABA_ID}/message_templates", 200, fixture("templates.json"))
    yield fake
    fake.stop()


def test_an_admin_creates_edits_and_deletes_an_automatic_reply(client, admin):
    signed_in(client, admin)
    assert client.post(URL, _template()).status_code == 302
    template = Template.objects.get()
    assert (template.kind, template.is_active, template.shortcut) == ("automatic", True, "")
    assert sorted(template.variants.values_list("language", "subject")) == [
        ("cs", ""), ("en", "Re: {{conversation.subject}}")]
    assert client.post(f"{URL}/{template.pk}", _template(name="Acknowledgement", kind="canned",
                                                          language_1="", text_1="")).status_code == 302
    template.refresh_from_db()
    assert (template.name, template.kind) == ("Acknowledgement", "automatic")  # the kind stays what it was
    assert list(template.variants.values_list("language", flat=True)) == ["en"]
    assert client.post(f"{URL}/{template.pk}/delete").status_code == 302 and not Template.objects.exists()
    assert len(audited(admin.workspace_id, "template.updated")) == 1
    assert audited(admin.workspace_id, "template.deleted")[0].details == {"name": "Acknowledgement"}


@pytest.mark.parametrize(("extra", "reason"), [
    ({"kind": "canned"}, "Unknown template kind."),
    ({"text_0": "", "language_0": "", "text_1": "", "language_1": ""}, "A template needs 1 to 50 language variants."),
    ({"name": ""}, "A template needs a name."),
])
def test_invalid_templates_are_refused(client, admin, extra, reason):
    signed_in(client, admin)
    answer = client.post(URL, _template(**extra))
    assert answer.status_code == 400 and reason in answer.content.decode()
    assert not Template.objects.exists()


def test_canned_replies_are_not_edited_here(client, admin):
    signed_in(client, admin)
    client.post("/app/admin/replies", {"name": "Canned", "language_0": "en", "text_0": "Hi", "is_active": "1"})
    canned = Template.objects.get()
    assert client.get(f"{URL}/{canned.pk}").status_code == 404
    assert client.post(f"{URL}/{canned.pk}/delete").status_code == 404 and Template.objects.exists()


def test_whatsapp_templates_sync_and_show_their_status(client, admin, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    signed_in(client, admin)
    page = client.get(URL).content.decode()
    assert "WhatsApp support" in page and "Never synced." in page
    answer = client.post(f"{URL}/whatsapp/{channel.pk}/sync")
    assert answer.status_code == 302
    assert sorted(MessageTemplate.objects.values_list("name", "status")) == [
        ("order_update", "APPROVED"), ("seasonal_promo", "REJECTED")]
    page = client.get(URL).content.decode()
    assert "2 WhatsApp templates synced." in page and "Last synced" in page
    assert 'data-status="APPROVED">APPROVED' in page and 'data-status="REJECTED">REJECTED' in page
    assert audited(admin.workspace_id, "channel.updated")[-1].details == {"whatsapp_templates_synced": 2}


def test_a_refusing_graph_api_is_shown_and_keeps_the_last_sync(client, admin):
    fake = FakeProvider().start()
    try:
        fake.route("GET", f"/{WABA_ID}/message_templates", 401,
                   {"error": {"code": 190, "message": "Invalid OAuth access token."}})
        channel = make_whatsapp_channel(admin, fake.url)
        signed_in(client, admin)
        answer = client.post(f"{URL}/whatsapp/{channel.pk}/sync")
        assert answer.status_code == 502 and "Meta answered" in answer.content.decode()
        assert not MessageTemplate.objects.exists()
    finally:
        fake.stop()


def test_another_workspaces_templates_and_numbers_answer_404(client, admin, graph):
    other = factories.make_workspace(name="Other Co")
    theirs_channel = make_whatsapp_channel(other, graph.url)
    signed_in(client, other)
    client.post(URL, _template())
    theirs = Template.objects.get()
    api_channel = factories.make_api_channel(admin)
    signed_in(client, admin)
    page = client.get(URL).content.decode()
    assert "We got your message" not in page and "WhatsApp support" not in page
    assert client.get(f"{URL}/{theirs.pk}").status_code == 404
    assert client.post(f"{URL}/{theirs.pk}", _template(name="Mine")).status_code == 404
    assert client.post(f"{URL}/{theirs.pk}/delete").status_code == 404
    assert client.post(f"{URL}/whatsapp/{theirs_channel.pk}/sync").status_code == 404
    assert client.post(f"{URL}/whatsapp/{api_channel.pk}/sync").status_code == 404  # not a WhatsApp number
    assert Template.objects.get().name == "We got your message" and not MessageTemplate.objects.exists()


@pytest.mark.parametrize("role", ["agent", "light"])
def test_agents_and_light_agents_are_refused(client, admin, graph, role):
    people = members(admin)
    channel = make_whatsapp_channel(admin, graph.url)
    signed_in(client, people[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, _template()).status_code == 403
    assert client.post(f"{URL}/whatsapp/{channel.pk}/sync").status_code == 403
    assert not Template.objects.exists() and not MessageTemplate.objects.exists()

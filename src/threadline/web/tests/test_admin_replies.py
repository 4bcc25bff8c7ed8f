"""The Canned replies and macros screen (/app/admin/replies): canned replies with a /shortcut (unique in the
workspace) and language variants; macros built from the form into the replies domain's actions, applied for real."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.conversations.tests.builders import inbound_conversation
from threadline.replies.actions import do_apply_macro
from threadline.replies.models import Macro, Template
from threadline.tenancy.actions import do_create_team
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in

URL = "/app/admin/replies"


def _canned(**extra):
    return {"name": "Refund policy", "shortcut": "/Refund", "is_active": "1",
            "language_0": "en", "text_0": "Hi {{contact.first_name}}, refunds take 5 days.",
            "language_1": "he", "text_1": "שלום {{contact.first_name}}, החזר כספי תוך 5 ימים.",
            "language_2": "", "text_2": "", **extra}


def test_an_admin_creates_edits_and_deletes_a_canned_reply(client, admin):
    signed_in(client, admin)
    assert client.post(URL, _canned()).status_code == 302
    reply = Template.objects.get(name="Refund policy")
    assert (reply.kind, reply.shortcut, reply.is_active) == ("canned", "refund", True)
    assert sorted(reply.variants.values_list("language", "text")) == [
        ("en", "Hi {{contact.first_name}}, refunds take 5 days."), ("he", "שלום {{contact.first_name}}, החזר כספי תוך 5 ימים.")]
    page = client.get(URL).content.decode()
    assert '<code dir="ltr">/refund</code>' in page and "en, he" in page
    edit = client.get(f"{URL}/{reply.pk}").content.decode()
    assert 'name="language_2" value=""' in edit  # a row for another language
    answer = client.post(f"{URL}/{reply.pk}", _canned(name="Refunds", shortcut="refunds", language_1="",
                                                      text_1="", language_2="cs", text_2="Vrácení peněz do 5 dnů."))
    assert answer.status_code == 302
    reply.refresh_from_db()
    assert (reply.name, reply.shortcut, reply.is_active) == ("Refunds", "refunds", True)
    assert sorted(reply.variants.values_list("language", flat=True)) == ["cs", "en"]
    assert client.post(f"{URL}/{reply.pk}", {**_canned(), "is_active": ""}).status_code == 302
    assert Template.objects.get(pk=reply.pk).is_active is False
    assert client.post(f"{URL}/{reply.pk}/delete").status_code == 302
    assert not Template.objects.filter(pk=reply.pk).exists()
    assert [len(audited(admin.workspace_id, f"template.{a}")) for a in ("created", "updated", "deleted")] == [1, 2, 1]


@pytest.mark.parametrize(("extra", "status", "reason"), [
    ({"shortcut": "refund policy"}, 400, "A shortcut is up to 64 lowercase letters"),
    ({"shortcut": "taken"}, 409, "Another reply uses the shortcut /taken."),
    ({"name": "Greeting"}, 409, "A template with this name exists already."),
    ({"language_0": "", "text_0": "", "language_1": "", "text_1": ""}, 400, "A template needs 1 to 50 language"),
    ({"language_1": "en"}, 400, "Each variant needs its own language."),
    ({"name": ""}, 400, "A template needs a name."),
])
def test_invalid_canned_replies_are_refused_and_nothing_changes(client, admin, extra, status, reason):
    signed_in(client, admin)
    client.post(URL, _canned(name="Greeting", shortcut="taken"))
    answer = client.post(URL, _canned(**extra))
    assert answer.status_code == status and reason in answer.content.decode()
    assert list(Template.objects.values_list("name", flat=True)) == ["Greeting"]
    assert extra.get("text_0") == "" or "refunds take 5 days." in answer.content.decode()  # what was typed is kept


def test_shortcuts_are_unique_per_workspace_only(client, admin):
    other = factories.make_workspace(name="Other Co")
    signed_in(client, other)
    client.post(URL, _canned())
    signed_in(client, admin)
    assert client.post(URL, _canned()).status_code == 302
    assert Template.objects.filter(shortcut="refund").count() == 2


def test_a_macro_built_in_the_form_does_what_it_says(client, admin, run_jobs):
    people = members(admin)
    with transaction.atomic():
        team = do_create_team(admin.workspace, "Billing", [people["agent"]])
    signed_in(client, admin)
    client.post(URL, _canned())
    reply = Template.objects.get()
    answer = client.post(f"{URL}/macros", {
        "name": "Refund and solve", "description": "Sends the policy", "template": reply.pk, "set_status": "solved",
        "set_priority": "high", "add_tags": "refund, billing", "remove_tags": "new", "set_team": team.pk,
        "assign": "me", "is_active": "1"})
    assert answer.status_code == 302
    macro = Macro.objects.get()
    assert macro.template_id == reply.pk and macro.actions == [
        {"type": "set_status", "value": "solved"}, {"type": "set_priority", "value": "high"},
        {"type": "add_tags", "tags": ["refund", "billing"]}, {"type": "remove_tags", "tags": ["new"]},
        {"type": "set_team", "team_id": team.pk}, {"type": "assign", "agent_id": "me"}]
    edit = client.get(f"{URL}/macros/{macro.pk}").content.decode()  # the form shows what the macro does
    assert '<option value="solved" selected>' in edit and f'<option value="{team.pk}" selected>' in edit
    assert 'value="refund, billing"' in edit and '<option value="me" selected>' in edit
    conversation = inbound_conversation(client, factories.make_api_channel(admin), run_jobs, "m-1", "dana@example.com")
    with transaction.atomic():
        do_apply_macro(people["agent"], conversation, macro)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.priority, conversation.team_id, conversation.assignee_id) == (
        "solved", "high", team.pk, people["agent"].pk)
    assert set(conversation.tags.values_list("name", flat=True)) >= {"refund", "billing"}
    answer = client.post(f"{URL}/macros/{macro.pk}", {"name": "Just close", "set_status": "closed",
                                                       "assign": "unassign"})
    assert answer.status_code == 302
    macro.refresh_from_db()
    assert (macro.actions, macro.template_id, macro.is_active) == (
        [{"type": "set_status", "value": "closed"}, {"type": "unassign"}], None, False)
    assert client.post(f"{URL}/macros/{macro.pk}/delete").status_code == 302 and not Macro.objects.exists()
    assert [len(audited(admin.workspace_id, f"macro.{a}")) for a in ("created", "updated", "deleted")] == [1, 1, 1]


@pytest.mark.parametrize(("form", "status", "reason"), [
    ({"name": "Nothing"}, 400, "A macro needs actions or a reply."),
    ({"name": "Bad", "set_status": "vanished"}, 400, "set_status needs a known status."),
    ({"name": "Bad", "assign": "999999"}, 400, "No such agent."),
    ({"name": "Bad", "set_team": "abc"}, 400, "set_team must be a number."),
])
def test_invalid_macros_are_refused(client, admin, form, status, reason):
    signed_in(client, admin)
    answer = client.post(f"{URL}/macros", form)
    assert answer.status_code == status and reason in answer.content.decode()
    assert not Macro.objects.exists()


def test_another_workspaces_replies_and_macros_answer_404_and_are_unchanged(client, admin):
    other = factories.make_workspace(name="Other Co")
    signed_in(client, other)
    client.post(URL, _canned())
    reply = Template.objects.get()
    client.post(f"{URL}/macros", {"name": "Theirs", "set_status": "solved", "is_active": "1"})
    macro = Macro.objects.get()
    signed_in(client, admin)
    page = client.get(URL).content.decode()
    assert "Refund policy" not in page and "Theirs" not in page
    assert client.get(f"{URL}/{reply.pk}").status_code == 404
    assert client.post(f"{URL}/{reply.pk}", _canned(name="Mine")).status_code == 404
    assert client.post(f"{URL}/{reply.pk}/delete").status_code == 404
    assert client.post(f"{URL}/macros/{macro.pk}", {"name": "Mine", "set_status": "open"}).status_code == 404
    assert client.post(f"{URL}/macros/{macro.pk}/delete").status_code == 404
    assert client.post(f"{URL}/macros", {"name": "Uses theirs", "template": reply.pk}).status_code == 404
    assert (Template.objects.get().name, Macro.objects.get().name, Macro.objects.count()) == (
        "Refund policy", "Theirs", 1)


@pytest.mark.parametrize("role", ["agent", "light"])
def test_agents_and_light_agents_are_refused(client, admin, role):
    people = members(admin)
    signed_in(client, admin)
    client.post(URL, _canned())
    reply = Template.objects.get()
    signed_in(client, people[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, _canned(name="Other", shortcut="other")).status_code == 403
    assert client.post(f"{URL}/{reply.pk}/delete").status_code == 403
    assert client.post(f"{URL}/macros", {"name": "M", "set_status": "solved"}).status_code == 403
    assert list(Template.objects.values_list("name", flat=True)) == ["Refund policy"] and not Macro.objects.exists()

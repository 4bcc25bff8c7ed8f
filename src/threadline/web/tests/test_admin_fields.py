"""Tags and custom fields (/app/admin/fields): definitions created, edited and deleted through the screen's forms;
tags renamed, merged and deleted; values filled by agents in the workspace and through the API, each checked by
its type; permissions and another workspace's ids."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.audit.models import AuditEntry
from threadline.contacts.models import CustomField
from threadline.conversations.actions import do_update_conversation
from threadline.conversations.models import Conversation, Tag
from threadline.tenancy.models import Role
from threadline.testing import factories
from threadline.web.tests.helpers import customer_writes


def _audited(admin, action: str) -> dict:
    entry = AuditEntry.objects.filter(workspace_id=admin.workspace_id, action=action).order_by("-id").first()
    assert entry is not None, action
    return entry.details


def _field(admin, **fields) -> CustomField:
    return CustomField.objects.create(workspace=admin.workspace, **fields)


def _conversation(admin, text: str = "Where is my order?", **extra) -> Conversation:
    channel = factories.make_api_channel(admin)
    return Conversation.objects.get(pk=customer_writes(channel, text, **extra).conversation_id)


# ── definitions ──────────────────────────────────────────────────────────────────────────────────────
def test_an_admin_defines_edits_and_deletes_custom_fields(client, admin):
    client.force_login(admin.user)
    response = client.post("/app/admin/fields", {"label": "Plan", "key": "plan", "applies_to": "contact",
                                                 "kind": "select", "options": "Free\nPro, Enterprise\n\n"})
    assert response.status_code == 302
    plan = CustomField.objects.get(workspace=admin.workspace, key="plan")
    assert (plan.kind, plan.options, plan.applies_to) == ("select", ["Free", "Pro", "Enterprise"], "contact")
    assert _audited(admin, "custom_field.created")["name"] == "plan"
    html = client.get("/app/admin/fields").content.decode()
    assert "Plan" in html and "Enterprise" in html

    response = client.post(f"/app/admin/fields/{plan.pk}", {"label": "Order total", "key": "order_total",
                                                            "applies_to": "conversation", "kind": "number",
                                                            "options": "ignored"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.key, plan.kind, plan.options, plan.applies_to) == ("order_total", "number", [], "conversation")
    _audited(admin, "custom_field.updated")

    assert client.post(f"/app/admin/fields/{plan.pk}/delete").status_code == 302
    assert not CustomField.objects.exists()
    _audited(admin, "custom_field.deleted")


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"label": "Plan", "key": "Plan Name", "applies_to": "contact", "kind": "text"}, 400, "A key is lowercase"),
    ({"label": "", "key": "plan", "applies_to": "contact", "kind": "text"}, 400, "A field needs a label."),
    ({"label": "Plan", "key": "plan", "applies_to": "contact", "kind": "select", "options": ""}, 400,
     "A list field needs options."),
    ({"label": "Plan", "key": "plan", "applies_to": "everywhere", "kind": "text"}, 400, "A field is on contacts"),
    ({"label": "Plan again", "key": "plan", "applies_to": "contact", "kind": "text"}, 409,
     "A field with this key exists already."),
])
def test_a_bad_definition_is_refused_with_the_form_shown_again(client, admin, form, status, message):
    _field(admin, key="plan", label="Plan", applies_to="contact")
    client.force_login(admin.user)
    response = client.post("/app/admin/fields", form)
    assert response.status_code == status
    assert message in response.content.decode() and 'name="applies_to"' in response.content.decode()
    assert CustomField.objects.count() == 1


# ── tags ─────────────────────────────────────────────────────────────────────────────────────────────
def test_tags_are_renamed_merged_and_deleted(client, admin):
    first, second = _conversation(admin), _conversation(admin, "Another one", address="sam@example.com")
    with transaction.atomic():
        do_update_conversation(None, first, tags=["refnd", "vip"])
        do_update_conversation(None, second, tags=["refund"])
    client.force_login(admin.user)
    html = client.get("/app/admin/fields").content.decode()
    assert "refnd" in html and "vip" in html

    typo = Tag.objects.get(workspace=admin.workspace, name="refnd")
    assert client.post(f"/app/admin/fields/tags/{typo.pk}", {"name": "refund"}).status_code == 302  # a merge
    assert not Tag.objects.filter(pk=typo.pk).exists()
    assert sorted(first.tags.values_list("name", flat=True)) == ["refund", "vip"]
    assert list(second.tags.values_list("name", flat=True)) == ["refund"]
    assert _audited(admin, "tag.merged") == {"source": "refnd", "target": "refund", "conversations": 1}

    vip = Tag.objects.get(workspace=admin.workspace, name="vip")
    assert client.post(f"/app/admin/fields/tags/{vip.pk}", {"name": "VIP customer"}).status_code == 302
    assert sorted(first.tags.values_list("name", flat=True)) == ["VIP customer", "refund"]
    _audited(admin, "tag.renamed")
    response = client.post(f"/app/admin/fields/tags/{vip.pk}", {"name": "  "})
    assert response.status_code == 400 and "A tag needs a name." in response.content.decode()

    assert client.post(f"/app/admin/fields/tags/{vip.pk}/delete").status_code == 302
    assert list(first.tags.values_list("name", flat=True)) == ["refund"]
    _audited(admin, "tag.deleted")


# ── values in the workspace and the API ──────────────────────────────────────────────────────────────
def test_agents_fill_conversation_and_contact_fields_checked_by_type(client, admin):
    _field(admin, key="order_total", label="Order total", applies_to="conversation", kind="number")
    _field(admin, key="due", label="Due", applies_to="conversation", kind="date")
    _field(admin, key="plan", label="Plan", applies_to="contact", kind="select", options=["Free", "Pro"])
    conversation = _conversation(admin)
    agent = factories.make_agent(admin, "sam@example.com")
    client.force_login(agent.user)
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert 'name="field_order_total"' in page and 'name="field_plan"' in page

    back = f"/app/c/{conversation.pk}/"
    response = client.post(f"/app/x/conversations/{conversation.pk}/fields",
                           {"field_order_total": "129.90", "field_due": "2031-02-03", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    conversation.refresh_from_db()
    assert conversation.custom_fields == {"order_total": 129.9, "due": "2031-02-03"}
    assert conversation.events.filter(kind="custom_fields_changed").count() == 1

    response = client.post(f"/app/x/conversations/{conversation.pk}/fields", {"field_order_total": "lots"})
    assert response.status_code == 400 and "Order total must be a number." in response.content.decode()
    response = client.post(f"/app/x/conversations/{conversation.pk}/fields", {"field_due": "3 Feb"})
    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.custom_fields == {"order_total": 129.9, "due": "2031-02-03"}

    client.post(f"/app/x/conversations/{conversation.pk}/fields", {"field_order_total": "", "field_due": "2031-02-03"})
    conversation.refresh_from_db()
    assert conversation.custom_fields == {"due": "2031-02-03"}  # emptied: removed

    contact = conversation.contact
    response = client.post(f"/app/x/contacts/{contact.pk}/fields", {"field_plan": "Pro"}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200 and response.json()["attributes"]["plan"] == "Pro"
    response = client.post(f"/app/x/contacts/{contact.pk}/fields", {"field_plan": "Platinum"},
                           HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and response.json()["code"] == "invalid_custom_field"
    contact.refresh_from_db()
    assert contact.attributes["plan"] == "Pro"
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert 'value="Pro" selected' in page
    assert "<dt>plan</dt>" not in page  # in its own box, not again among the free attributes
    assert "changed fields: due: 2031-02-03, order_total: 129.9" in page  # the timeline says what changed
    assert "changed fields: order_total: —" in page


def test_the_api_reads_definitions_and_writes_values_checked_by_type(api, admin):
    _field(admin, key="order_total", label="Order total", applies_to="conversation", kind="number")
    _field(admin, key="plan", label="Plan", applies_to="contact", kind="select", options=["Free", "Pro"])
    conversation = _conversation(admin)
    listed = api.get("/api/v1/custom-fields").json()
    assert [(f["key"], f["applies_to"], f["kind"]) for f in listed] == [("plan", "contact", "select"),
                                                                         ("order_total", "conversation", "number")]

    url = f"/api/v1/conversations/{conversation.pk}"
    response = api.patch(url, {"custom_fields": {"order_total": 42}}, content_type="application/json")
    assert response.status_code == 200 and response.json()["custom_fields"] == {"order_total": 42}
    response = api.patch(url, {"custom_fields": {"order_total": "many"}}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_custom_field"
    response = api.patch(url, {"custom_fields": {"colour": "red"}}, content_type="application/json")
    assert response.status_code == 400 and "No such field" in response.json()["message"]
    conversation.refresh_from_db()
    assert conversation.custom_fields == {"order_total": 42}

    contact_url = f"/api/v1/contacts/{conversation.contact_id}"
    response = api.patch(contact_url, {"attributes": {"plan": "Gold", "source": "shop"}},
                         content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "plan"
    response = api.patch(contact_url, {"attributes": {"plan": "Free", "source": "shop"}},
                         content_type="application/json")
    assert response.status_code == 200 and response.json()["attributes"] == {"plan": "Free", "source": "shop"}


def test_the_api_defines_fields_for_admins_only_and_within_their_workspace(api, admin):
    body = {"key": "plan", "label": "Plan", "kind": "select", "applies_to": "contact", "options": ["Free", "Pro"]}
    created = api.post("/api/v1/custom-fields", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["options"] == ["Free", "Pro"]
    field_id = created.json()["id"]
    again = api.post("/api/v1/custom-fields", body, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "field_exists"
    bad = api.post("/api/v1/custom-fields", {**body, "key": "Plan!"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_key"
    changed = api.put(f"/api/v1/custom-fields/{field_id}", {**body, "label": "Tier"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["label"] == "Tier"
    assert _audited(admin, "custom_field.updated")["label"] == "Tier"

    agent = factories.make_agent(admin, "sam@example.com")
    as_agent = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(agent)}"}
    assert api.get("/api/v1/custom-fields", **as_agent).status_code == 200
    assert api.post("/api/v1/custom-fields", {**body, "key": "other"}, content_type="application/json",
                    **as_agent).status_code == 403
    assert api.delete(f"/api/v1/custom-fields/{field_id}", **as_agent).status_code == 403

    other = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(factories.make_workspace(name='Other Co'))}"}
    assert api.get("/api/v1/custom-fields", **other).json() == []
    assert api.put(f"/api/v1/custom-fields/{field_id}", body, content_type="application/json",
                   **other).status_code == 404
    assert api.delete(f"/api/v1/custom-fields/{field_id}", **other).status_code == 404
    assert CustomField.objects.get(pk=field_id).label == "Tier"
    assert api.delete(f"/api/v1/custom-fields/{field_id}").status_code == 204
    assert not CustomField.objects.exists()


# ── permissions and workspaces ───────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("role", [Role.AGENT, Role.LIGHT_AGENT])
def test_agents_and_light_agents_cannot_define_fields_or_touch_tags(client, admin, role):
    member = factories.make_agent(admin, "someone@example.com", role=role)
    field = _field(admin, key="plan", label="Plan", applies_to="contact")
    tag = Tag.objects.create(workspace=admin.workspace, name="vip")
    client.force_login(member.user)
    assert client.get("/app/admin/fields").status_code == 403
    for url in ("/app/admin/fields", f"/app/admin/fields/{field.pk}", f"/app/admin/fields/{field.pk}/delete",
                f"/app/admin/fields/tags/{tag.pk}", f"/app/admin/fields/tags/{tag.pk}/delete"):
        assert client.post(url, {"label": "X", "key": "x", "applies_to": "contact", "kind": "text",
                                 "name": "x"}).status_code == 403, url
    assert CustomField.objects.get().label == "Plan" and Tag.objects.get().name == "vip"


def test_light_agents_see_but_cannot_fill_fields(client, admin):
    _field(admin, key="order_total", label="Order total", applies_to="conversation", kind="number")
    conversation = _conversation(admin)
    light = factories.make_agent(admin, "light@example.com", role=Role.LIGHT_AGENT)
    client.force_login(light.user)
    assert 'name="field_order_total"' in client.get(f"/app/c/{conversation.pk}/").content.decode()
    response = client.post(f"/app/x/conversations/{conversation.pk}/fields", {"field_order_total": "5"})
    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.custom_fields == {}


def test_another_workspaces_admin_gets_404_and_changes_nothing(client, admin):
    field = _field(admin, key="plan", label="Plan", applies_to="contact")
    conversation = _conversation(admin)
    with transaction.atomic():
        do_update_conversation(None, conversation, tags=["vip"])
    tag = Tag.objects.get(name="vip")
    other = factories.make_workspace(name="Other Co")
    _field(other, key="plan", label="Their plan", applies_to="contact")
    client.force_login(other.user)
    for url, form in ((f"/app/admin/fields/{field.pk}", {"label": "Stolen", "key": "plan", "kind": "text",
                                                        "applies_to": "contact"}),
                      (f"/app/admin/fields/{field.pk}/delete", {}),
                      (f"/app/admin/fields/tags/{tag.pk}", {"name": "stolen"}),
                      (f"/app/admin/fields/tags/{tag.pk}/delete", {}),
                      (f"/app/x/conversations/{conversation.pk}/fields", {"field_plan": "x"}),
                      (f"/app/x/contacts/{conversation.contact_id}/fields", {"field_plan": "x"})):
        assert client.post(url, form).status_code == 404, url
    field.refresh_from_db()
    conversation.refresh_from_db()
    assert field.label == "Plan" and Tag.objects.filter(pk=tag.pk, name="vip").exists()
    assert conversation.contact.attributes == {} and conversation.custom_fields == {}
    html = client.get("/app/admin/fields").content.decode()
    assert "Their plan" in html and ">Plan<" not in html and "vip" not in html

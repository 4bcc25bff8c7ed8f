"""The routing rules and automations screens (/app/admin/routing, /app/admin/automations), through their POST
forms: rules created, ordered, switched and previewed; an automation built from rows, dry-run, saved, run by the
engine on a real inbound message and shown in its execution log; validation, permissions and workspaces."""

from __future__ import annotations

import pytest

from threadline.audit.models import AuditEntry
from threadline.automations.models import Automation, AutomationRun
from threadline.conversations.models import Conversation
from threadline.routing.models import RoutingRule
from threadline.tenancy.models import Role, Team
from threadline.testing import factories
from threadline.web.automation_builder import OP_CHOICES, actions_from, condition_rows, conditions_from
from threadline.web.tests.helpers import customer_writes


def _actions(admin) -> list[str]:
    return list(AuditEntry.objects.filter(workspace_id=admin.workspace_id).order_by("id")
                .values_list("action", flat=True))


def _rule_form(name: str, *teams: Team, **extra) -> dict:
    return {"name": name, "is_active": "on", "team_ids": [t.pk for t in teams] + [""], **extra}


# ── routing rules ────────────────────────────────────────────────────────────────────────────────────
def test_rules_are_created_edited_ordered_switched_off_and_deleted(client, admin):
    billing = Team.objects.create(workspace=admin.workspace, name="Billing")
    hebrew = Team.objects.create(workspace=admin.workspace, name="Hebrew desk")
    client.force_login(admin.user)
    assert client.post("/app/admin/routing", _rule_form("Hebrew", hebrew, billing, languages="he",
                                                         position="10")).status_code == 302
    assert client.post("/app/admin/routing", _rule_form("Urgent", billing, priorities=["urgent"],
                                                         channel_kinds=["webchat", "email"],
                                                         position="20")).status_code == 302
    first, second = RoutingRule.objects.filter(workspace=admin.workspace).order_by("position")
    assert (first.name, first.conditions, first.team_ids) == ("Hebrew", {"languages": ["he"]}, [hebrew.pk, billing.pk])
    assert second.conditions == {"priorities": ["urgent"], "channel_kinds": ["webchat", "email"]}
    assert "Channel: <bdi>Web chat, Email</bdi>" in client.get("/app/admin/routing").content.decode()

    assert client.post(f"/app/admin/routing/{second.pk}/move/up").status_code == 302
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == ["Urgent", "Hebrew"]
    assert client.post(f"/app/admin/routing/{second.pk}/move/sideways").status_code == 404

    assert client.post(f"/app/admin/routing/{first.pk}/toggle").status_code == 302
    first.refresh_from_db()
    assert not first.is_active

    response = client.post(f"/app/admin/routing/{first.pk}", _rule_form("Hebrew and Persian", hebrew,
                                                                         languages="he, FA"))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.conditions == {"languages": ["he", "fa"]} and first.team_ids == [hebrew.pk] and first.is_active

    assert client.post(f"/app/admin/routing/{second.pk}/delete").status_code == 302
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["Hebrew and Persian"]
    audit = _actions(admin)
    for action in ("routing_rule.created", "routing_rule.moved", "routing_rule.updated", "routing_rule.deleted"):
        assert action in audit


def test_a_rule_without_a_team_or_name_is_refused_with_the_form_shown_again(client, admin):
    client.force_login(admin.user)
    response = client.post("/app/admin/routing", {"name": "Nowhere", "team_ids": [""]})
    assert response.status_code == 400 and "A rule needs at least one team." in response.content.decode()
    assert 'name="team_ids"' in response.content.decode()
    other_team = Team.objects.create(workspace=factories.make_workspace(name="Other").workspace, name="Theirs")
    response = client.post("/app/admin/routing", _rule_form("Theirs", other_team))
    assert response.status_code == 400 and "No such team." in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_the_preview_names_the_rule_and_team_a_sample_conversation_would_hit(client, admin):
    hebrew = Team.objects.create(workspace=admin.workspace, name="Hebrew desk")
    chat = Team.objects.create(workspace=admin.workspace, name="Chat team")
    client.force_login(admin.user)
    client.post("/app/admin/routing", _rule_form("Hebrew", hebrew, languages="he", position="10"))
    client.post("/app/admin/routing", _rule_form("Chats", chat, channel_kinds=["webchat"], position="20"))
    html = client.get("/app/admin/routing/preview", {"language": "he", "channel_kind": "webchat",
                                                     "priority": "normal"}).content.decode()
    assert "Rule “Hebrew” sends it to Hebrew desk." in html
    html = client.get("/app/admin/routing/preview", {"language": "en", "channel_kind": "webchat"}).content.decode()
    assert "Rule “Chats” sends it to Chat team." in html
    html = client.get("/app/admin/routing/preview", {"language": "en", "channel_kind": "email"}).content.decode()
    assert "No rule matches" in html


# ── the automation builder ───────────────────────────────────────────────────────────────────────────
def test_the_builder_reads_rows_into_typed_conditions_and_actions_and_back():
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for group, field, op, value in (("all", "message.text", "contains_any", "refund, החזר"),
                                    ("all", "conversation.hours_since_created", "gte", "2.5"),
                                    ("any", "conversation.team_id", "eq", "7"), ("all", "contact.name", "is_set", "x"),
                                    ("all", "", "eq", "ignored")):
        data.appendlist("cond_group", group)
        data.appendlist("cond_field", field)
        data.appendlist("cond_op", op)
        data.appendlist("cond_value", value)
    conditions = conditions_from(data)
    assert conditions == {
        "all": [{"field": "message.text", "op": "contains_any", "value": ["refund", "החזר"]},
                {"field": "conversation.hours_since_created", "op": "gte", "value": 2.5},
                {"field": "contact.name", "op": "is_set"}],
        "any": [{"field": "conversation.team_id", "op": "eq", "value": 7}]}
    assert condition_rows(conditions, blank=0)[0] == {"group": "all", "field": "message.text", "op": "contains_any",
                                                      "value": "refund, החזר"}
    for kind, value, text in (("add_tags", "vip, refund", ""), ("notify", "3, 4", "Look"), ("route", "", ""),
                              ("", "skipped", "")):
        data.appendlist("act_type", kind)
        data.appendlist("act_value", value)
        data.appendlist("act_text", text)
    assert actions_from(data) == [{"type": "add_tags", "tags": ["vip", "refund"]},
                                  {"type": "notify", "agent_ids": [3, 4], "text": "Look"}, {"type": "route"}]
    from threadline.automations.conditions import OPS

    assert {op for op, _label in OP_CHOICES} == OPS


def test_a_number_custom_field_is_compared_as_a_number(admin):
    from django.http import QueryDict

    from threadline.contacts.models import CustomField
    from threadline.web.automation_builder import number_fields

    CustomField.objects.create(workspace=admin.workspace, key="order_total", label="Total", kind="number",
                               applies_to="conversation")
    CustomField.objects.create(workspace=admin.workspace, key="sku", label="SKU", kind="text",
                               applies_to="conversation")
    numbers = number_fields(CustomField.objects.all())
    assert numbers == {"conversation.custom.order_total"}
    data = QueryDict("cond_group=all&cond_field=conversation.custom.order_total&cond_op=eq&cond_value=5"
                     "&cond_group=all&cond_field=conversation.custom.sku&cond_op=eq&cond_value=5")
    assert [c["value"] for c in conditions_from(data, numbers)["all"]] == [5, "5"]


def _builder_form(**extra) -> dict:
    return {"name": "Refunds are urgent", "kind": "event", "events": ["message.received"], "is_active": "on",
            "position": "0", "max_runs_per_day": "10",
            "cond_group": ["all", "all"], "cond_field": ["message.text", ""], "cond_op": ["contains_any", "eq"],
            "cond_value": ["refund, החזר", ""],
            "act_type": ["add_tags", "set_priority", ""], "act_value": ["refund", "urgent", ""],
            "act_text": ["", "", ""], **extra}


def test_an_automation_built_in_the_form_is_dry_run_saved_and_run_by_the_engine_on_a_real_message(
        client, admin, run_jobs):
    channel = factories.make_api_channel(admin)
    old = customer_writes(channel, "Where is my refund?", address="old@example.com")
    customer_writes(channel, "Just saying hello", address="hello@example.com")
    run_jobs()  # their events are handled before the rule exists
    client.force_login(admin.user)

    response = client.post("/app/admin/automations/dry-run", _builder_form())
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 of 2 open conversations match now." in html and f"#{old.conversation_id}" in html
    assert 'value="refund, החזר"' in html  # the builder comes back with the rows as posted
    assert not Automation.objects.exists()  # a dry run saves nothing
    assert Conversation.objects.get(pk=old.conversation_id).priority == "normal"  # and changes nothing

    response = client.post("/app/admin/automations/new", _builder_form())
    assert response.status_code == 302
    automation = Automation.objects.get(workspace=admin.workspace)
    assert response["Location"] == f"/app/admin/automations/{automation.pk}"
    assert automation.conditions == {"all": [{"field": "message.text", "op": "contains_any",
                                              "value": ["refund", "החזר"]}]}
    assert automation.actions == [{"type": "add_tags", "tags": ["refund"]}, {"type": "set_priority",
                                                                            "value": "urgent"}]
    assert "automation.created" in _actions(admin)
    page = client.get(response["Location"]).content.decode()
    assert 'value="refund, החזר"' in page and "It has not run yet." in page  # the saved rule round-trips

    message = customer_writes(channel, "אני רוצה החזר בבקשה", address="dana@example.com")
    run_jobs()
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.priority == "urgent"
    assert list(conversation.tags.values_list("name", flat=True)) == ["refund"]
    run = AutomationRun.objects.get(automation=automation, conversation=conversation)
    assert run.outcome == "done" and run.performed == ["add_tags", "set_priority"]

    page = client.get(f"/app/admin/automations/{automation.pk}").content.decode()
    assert f"#{conversation.pk}" in page and "Page 1 of 1" in page

    response = client.post(f"/app/admin/automations/{automation.pk}", _builder_form(
        name="Refunds", act_type=["set_priority", ""], act_value=["high", ""], act_text=["", ""]))
    assert response.status_code == 302
    automation.refresh_from_db()
    assert automation.name == "Refunds" and automation.actions == [{"type": "set_priority", "value": "high"}]
    assert client.post(f"/app/admin/automations/{automation.pk}/toggle").status_code == 302
    automation.refresh_from_db()
    assert not automation.is_active
    assert client.post(f"/app/admin/automations/{automation.pk}/delete").status_code == 302
    assert not Automation.objects.exists()
    assert {"automation.updated", "automation.deleted"} <= set(_actions(admin))


def test_the_execution_log_is_paged(client, admin):
    channel = factories.make_api_channel(admin)
    message = customer_writes(channel, "hello")
    automation = Automation.objects.create(workspace=admin.workspace, name="Log", events=["message.received"],
                                           actions=[{"type": "route"}])
    AutomationRun.objects.bulk_create([
        AutomationRun(workspace=admin.workspace, automation=automation, conversation_id=message.conversation_id,
                      trigger="message.received", dedupe_key=f"k{n}", outcome="done", performed=[f"run-{n}"])
        for n in range(30)])
    client.force_login(admin.user)
    first = client.get(f"/app/admin/automations/{automation.pk}").content.decode()
    assert "run-29<" in first and "run-5<" in first and "run-4<" not in first and "Page 1 of 2" in first
    second = client.get(f"/app/admin/automations/{automation.pk}", {"page": 2}).content.decode()
    assert "run-0<" in second and "run-29" not in second


@pytest.mark.parametrize(("change", "message"), [
    ({"events": []}, "Event automations need events"),
    ({"act_type": [""], "act_value": [""], "act_text": [""]}, "An automation needs at least one action."),
    ({"cond_field": ["nowhere.field", ""]}, "Unknown field"),
    ({"act_type": ["set_team", ""], "act_value": ["Billing", ""], "act_text": ["", ""]}, "Choose one from the list"),
    ({"name": ""}, "An automation needs a name."),
])
def test_a_bad_automation_is_refused_with_the_builder_shown_again(client, admin, change, message):
    client.force_login(admin.user)
    response = client.post("/app/admin/automations/new", _builder_form(**change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'name="cond_field"' in response.content.decode()
    assert not Automation.objects.exists()


# ── permissions and workspaces ───────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("role", [Role.AGENT, Role.LIGHT_AGENT])
def test_agents_and_light_agents_are_refused(client, admin, role):
    member = factories.make_agent(admin, "someone@example.com", role=role)
    team = Team.objects.create(workspace=admin.workspace, name="Billing")
    rule = RoutingRule.objects.create(workspace=admin.workspace, name="R", team_ids=[team.pk])
    automation = Automation.objects.create(workspace=admin.workspace, name="A", events=["message.received"],
                                           actions=[{"type": "route"}])
    client.force_login(member.user)
    for url in ("/app/admin/routing", "/app/admin/routing/preview", "/app/admin/automations",
                "/app/admin/automations/new", f"/app/admin/automations/{automation.pk}"):
        assert client.get(url).status_code == 403, url
    for url in (f"/app/admin/routing/{rule.pk}/toggle", f"/app/admin/routing/{rule.pk}/delete",
                f"/app/admin/automations/{automation.pk}/toggle", "/app/admin/automations/dry-run",
                "/app/admin/automations/new"):
        assert client.post(url, _builder_form()).status_code == 403, url
    assert RoutingRule.objects.get().is_active and Automation.objects.get().is_active


def test_another_workspaces_admin_gets_404_and_changes_nothing(client, admin):
    team = Team.objects.create(workspace=admin.workspace, name="Billing")
    rule = RoutingRule.objects.create(workspace=admin.workspace, name="Ours", team_ids=[team.pk])
    automation = Automation.objects.create(workspace=admin.workspace, name="Ours", events=["message.received"],
                                           actions=[{"type": "route"}])
    other = factories.make_workspace(name="Other Co")
    client.force_login(other.user)
    assert client.get(f"/app/admin/automations/{automation.pk}").status_code == 404
    for url in (f"/app/admin/routing/{rule.pk}", f"/app/admin/routing/{rule.pk}/toggle",
                f"/app/admin/routing/{rule.pk}/move/up", f"/app/admin/routing/{rule.pk}/delete",
                f"/app/admin/automations/{automation.pk}", f"/app/admin/automations/{automation.pk}/toggle",
                f"/app/admin/automations/{automation.pk}/delete"):
        assert client.post(url, {**_builder_form(), **_rule_form("Stolen", team)}).status_code == 404, url
    response = client.post("/app/admin/automations/dry-run", {**_builder_form(), "automation_id": automation.pk})
    assert response.status_code == 404
    rule.refresh_from_db()
    automation.refresh_from_db()
    assert (rule.name, rule.is_active, automation.name, automation.is_active) == ("Ours", True, "Ours", True)
    for url in ("/app/admin/routing", "/app/admin/automations"):
        assert "Ours" not in client.get(url).content.decode()

"""Templates with language variants and placeholders, rendered per channel, and macros, over HTTP."""

from __future__ import annotations

from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel
from threadline.conversations.actions import receive_inbound_message
from threadline.conversations.models import Conversation, Message
from threadline.tenancy.actions import do_create_team
from threadline.testing.factories import make_api_channel


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()


def inbound(channel, text: str, n: int, name: str = "Dana Levi") -> Conversation:
    with transaction.atomic():
        message = receive_inbound_message(channel, InboundMessage(
            provider_message_id=f"rep-{n}", sender_kind="email", sender_address=f"c{n}@example.com",
            sender_name=name, text=text))
    return Conversation.objects.get(pk=message.conversation_id)


GREETING = {"name": "Greeting", "kind": "canned", "variants": [
    {"language": "en", "subject": "About #{{conversation.id}}", "text": "Hi {{contact.first_name}},\n\nThanks for writing."},
    {"language": "he", "text": "שלום {{contact.first_name}}, תודה שכתבת."},
    {"language": "cs", "text": "Dobrý den {{ contact.name }}, děkujeme. {{unknown.placeholder}}",
     "html": "<p>Dobrý den <b>{{contact.name}}</b></p>"},
]}


def test_render_picks_the_conversations_language_then_falls_back(api, admin, run_jobs):
    template = ok(api.post("/api/v1/replies/templates", GREETING, content_type="application/json"), 201)
    channel = make_api_channel(admin)
    hebrew = inbound(channel, "ההזמנה שלי לא הגיעה", 1)
    thai = inbound(channel, "คำสั่งซื้อของฉันยังไม่มาถึง", 2, name="Somchai Jaidee")
    czech = inbound(channel, "Moje objednávka ještě nedorazila", 3, name="Jan <Novák>")
    run_jobs()

    def render(conversation, **extra):
        return ok(api.post(f"/api/v1/replies/templates/{template['id']}/render",
                           {"conversation_id": conversation.pk, **extra}, content_type="application/json"))

    he = render(hebrew)
    assert (he["language"], he["fallback"], he["text"], he["html"]) == ("he", False, "שלום Dana, תודה שכתבת.", "")
    th = render(thai)  # no Thai variant: the workspace's default language
    assert (th["language"], th["fallback"], th["text"]) == ("en", True, "Hi Somchai,\n\nThanks for writing.")
    assert th["subject"] == f"About #{thai.pk}"
    email = render(thai, channel_kind="email")  # HTML for email: text paragraphs, escaped
    assert email["html"] == "<p>Hi Somchai,</p><p>Thanks for writing.</p>"
    cs_email = render(czech, channel_kind="email")
    assert cs_email["text"] == "Dobrý den Jan <Novák>, děkujeme. "  # unknown placeholders render empty
    assert cs_email["html"] == "<p>Dobrý den <b>Jan &lt;Novák&gt;</b></p>"  # values escaped in HTML
    assert render(czech, channel_kind="sms")["html"] == ""


def test_template_validation(api):
    duplicate_language = {**GREETING, "variants": [GREETING["variants"][0], GREETING["variants"][0]]}
    response = api.post("/api/v1/replies/templates", duplicate_language, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_variants")
    ok(api.post("/api/v1/replies/templates", GREETING, content_type="application/json"), 201)
    again = api.post("/api/v1/replies/templates", GREETING, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "template_exists")
    assert api.post("/api/v1/replies/templates", {"name": "x", "variants": []},
                    content_type="application/json").status_code == 422


def test_a_macro_replies_in_the_customers_language_and_changes_the_conversation(api, admin, run_jobs, receiver):
    template = ok(api.post("/api/v1/replies/templates", GREETING, content_type="application/json"), 201)
    with transaction.atomic():
        billing = do_create_team(admin.workspace, "Billing", [admin])
    macro = ok(api.post("/api/v1/replies/macros", {
        "name": "Hand to billing", "template_id": template["id"],
        "actions": [{"type": "set_team", "team_id": billing.pk}, {"type": "assign", "agent_id": "me"},
                    {"type": "add_tags", "tags": ["billing"]}, {"type": "set_status", "value": "pending"}],
    }, content_type="application/json"), 201)
    channel = make_api_channel(admin, webhook_url=receiver.url)
    conversation = inbound(channel, "שלום, חויבתי פעמיים החודש", 1)
    run_jobs()
    applied = ok(api.post(f"/api/v1/replies/macros/{macro['id']}/apply", {"conversation_id": conversation.pk},
                          content_type="application/json"))
    assert (applied["status"], applied["tags"]) == ("pending", ["billing"])
    conversation.refresh_from_db()
    assert (conversation.team_id, conversation.assignee_id) == (billing.pk, admin.pk)
    reply = Message.objects.get(pk=applied["message_id"])
    assert reply.text == "שלום Dana, תודה שכתבת." and reply.author_membership_id == admin.pk
    assert conversation.first_response_at is not None  # an agent's macro reply is an answer
    assert conversation.events.filter(kind="macro_applied").count() == 1


def test_a_macro_whose_reply_is_refused_changes_nothing(api, admin, run_jobs):
    template = ok(api.post("/api/v1/replies/templates", GREETING, content_type="application/json"), 201)
    macro = ok(api.post("/api/v1/replies/macros", {"name": "Close with thanks", "template_id": template["id"],
                                                   "actions": [{"type": "set_status", "value": "solved"}]},
                        content_type="application/json"), 201)
    with transaction.atomic():
        mailbox = Channel.objects.create(workspace=admin.workspace, kind="email", name="Mailbox", is_active=False)
    conversation = inbound(mailbox, "Hello", 1)  # its only channel is switched off: no reply is possible
    run_jobs()
    response = api.post(f"/api/v1/replies/macros/{macro['id']}/apply", {"conversation_id": conversation.pk},
                        content_type="application/json")
    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.status != "solved"
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()


def test_macro_validation(api):
    bad = api.post("/api/v1/replies/macros", {"name": "x", "actions": [{"type": "set_team", "team_id": 4242}]},
                   content_type="application/json")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_action")
    empty = api.post("/api/v1/replies/macros", {"name": "x"}, content_type="application/json")
    assert (empty.status_code, empty.json()["code"]) == (400, "empty_macro")

"""Machine translation in the agent workspace: customer messages shown translated with the original one click
away, the composer's preview and translated send (the original kept), notes never translated, the admin screen,
article drafts, and another workspace's ids answering 404."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from threadline.conversations.models import Message
from threadline.knowledge.actions import do_create_article, do_save_help_center
from threadline.knowledge.models import ArticleTranslation
from threadline.language.actions import ensure_detected
from threadline.routing.actions import profile_of
from threadline.tenancy.models import Brand, Membership
from threadline.testing import factories
from threadline.translation.models import CachedTranslation, GlossaryTerm, TranslationSettings
from threadline.translation.queries import usage_of
from threadline.web.tests.helpers import FETCH, customer_writes

pytestmark = pytest.mark.django_db(transaction=True)

THAI = "สวัสดีครับ คำสั่งซื้อของฉันยังไม่มาถึง"
CZECH = "Dobrý den, moje objednávka ještě nedorazila."
REPLY_CS = "Omlouváme se, vaši objednávku odešleme zítra."
REPLY_TH = "ขออภัย เราจะส่งคำสั่งซื้อของคุณพรุ่งนี้"


def czech(agent: Membership) -> Membership:
    agent.user.language = "cs"
    agent.user.save(update_fields=["language"])
    profile = profile_of(agent)
    profile.languages = ["cs"]
    profile.save(update_fields=["languages"])
    return agent


@pytest.fixture
def thai_message(admin, receiver) -> Message:
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    message = customer_writes(channel, THAI, address="somchai@example.co.th", name="Somchai")
    with transaction.atomic():
        ensure_detected(message)
    message.refresh_from_db()
    assert message.language == "th"
    return message


@pytest.fixture
def agent_client(client, admin):
    czech(admin)
    client.force_login(admin.user)
    return client


def page(client, message: Message) -> str:
    return client.get(f"/app/c/{message.conversation_id}/").content.decode()


def test_without_a_provider_the_ui_says_so(agent_client, thai_message):
    html = page(agent_client, thai_message)
    assert "data-translation=\"unavailable\"" in html and THAI in html
    assert 'id="translate-unavailable"' in html and 'id="translate-toggle"' not in html
    response = agent_client.post(f"/app/x/messages/{thai_message.pk}/translate", **FETCH)
    assert response.status_code == 409 and response.json()["code"] == "translation_not_configured"


def test_a_foreign_message_is_fetched_then_served_from_the_cache(agent_client, admin, thai_message, configure, fake):
    configure(admin)
    html = page(agent_client, thai_message)
    assert f'data-translate-url="/app/x/messages/{thai_message.pk}/translate"' in html  # the page did not wait
    assert fake.requests == []
    response = agent_client.post(f"/app/x/messages/{thai_message.pk}/translate", **FETCH)
    assert response.json() == {"message_id": thai_message.pk, "text": CZECH, "source": "th", "target": "cs"}
    html = page(agent_client, thai_message)
    assert 'data-translation="done"' in html and CZECH in html
    assert 'class="translation-original"' in html and THAI in html  # the original, one click away
    assert len(fake.requests) == 1


def test_an_agent_who_speaks_the_language_sees_it_as_written(client, admin, thai_message, configure, fake):
    configure(admin)
    thai = factories.make_agent(admin, "pim@example.com")
    profile = profile_of(thai)
    profile.languages = ["th", "en"]
    profile.save(update_fields=["languages"])
    client.force_login(thai.user)
    assert "data-translation" not in page(client, thai_message)


def test_preview_and_send_translated_keep_the_original(agent_client, admin, thai_message, configure, fake, receiver,
                                                       run_jobs):
    configure(admin)
    conversation_id = thai_message.conversation_id
    html = page(agent_client, thai_message)
    assert 'id="translate-toggle"' in html
    preview = agent_client.post(f"/app/x/conversations/{conversation_id}/translate-preview", {"text": REPLY_CS},
                                **FETCH)
    assert preview.json() == {"translated": REPLY_TH, "source": "cs", "target": "th"}
    sent = agent_client.post(f"/app/x/conversations/{conversation_id}/reply",
                             {"text": REPLY_CS, "translate": "1", "force": "1"}, **FETCH)
    assert sent.status_code == 200, sent.content
    message = Message.objects.get(pk=sent.json()["message_id"])
    assert message.text == REPLY_TH and message.language == "th"
    assert message.metadata["translation"] == {"original": REPLY_CS, "source": "cs", "target": "th",
                                               "provider": "libretranslate"}
    assert len([r for r in fake.requests if r["path"] == "/translate"]) == 1  # the send reused the preview's
    run_jobs()
    assert json.loads(receiver.requests[-1].body)["text"] == REPLY_TH  # the customer gets Thai
    html = page(agent_client, thai_message)
    assert REPLY_CS in html and "sent-translation" in html


def test_notes_are_never_translated(agent_client, admin, thai_message, configure, fake):
    configure(admin)
    response = agent_client.post(f"/app/x/conversations/{thai_message.conversation_id}/note",
                                 {"text": REPLY_CS, "translate": "1"}, **FETCH)
    note = Message.objects.get(pk=response.json()["message_id"])
    assert note.is_note and note.text == REPLY_CS and "translation" not in note.metadata
    assert fake.requests == []
    refused = agent_client.post(f"/app/x/messages/{note.pk}/translate", **FETCH)
    assert refused.status_code == 400 and refused.json()["code"] == "not_translatable"


def test_the_reply_is_sent_as_written_when_the_customer_shares_the_language(agent_client, admin, receiver,
                                                                           configure, fake):
    configure(admin)
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    message = customer_writes(channel, "Dobrý den, kde je moje objednávka?", address="jan@example.cz")
    with transaction.atomic():
        ensure_detected(message)
    message.refresh_from_db()
    if message.language != "cs":
        pytest.skip(f"detected {message.language}")
    assert 'id="composer-translate"' not in page(agent_client, message)
    response = agent_client.post(f"/app/x/conversations/{message.conversation_id}/translate-preview",
                                 {"text": "Zítra"}, **FETCH)
    assert response.json()["code"] == "translation_not_needed"


def test_budget_exhausted_is_a_clear_answer(agent_client, admin, thai_message, configure, fake):
    configure(admin, budget=5)
    response = agent_client.post(f"/app/x/messages/{thai_message.pk}/translate", **FETCH)
    assert response.status_code == 409 and response.json()["code"] == "translation_budget_exhausted"
    assert fake.requests == []


def test_another_workspace_cannot_translate_or_preview(client, admin, thai_message, configure, fake):
    configure(admin)
    other = factories.make_workspace("Elsewhere")
    configure(other)
    client.force_login(other.user)
    assert client.post(f"/app/x/messages/{thai_message.pk}/translate", **FETCH).status_code == 404
    assert client.post(f"/app/x/conversations/{thai_message.conversation_id}/translate-preview", {"text": "x"},
                       **FETCH).status_code == 404
    light = factories.make_agent(admin, "light@example.com", role="light_agent")
    client.force_login(light.user)
    assert client.post(f"/app/x/conversations/{thai_message.conversation_id}/translate-preview", {"text": "x"},
                       **FETCH).status_code == 403
    assert fake.requests == []


def test_the_admin_screen_sets_up_the_provider_glossary_and_shows_usage(client, admin, fake):
    client.force_login(admin.user)
    html = client.get("/app/admin/translation").content.decode()
    assert 'id="no-provider"' in html
    response = client.post("/app/admin/translation", {"provider": "deepl", "base_url": fake.url, "api_key": "k:fx",
                                                      "monthly_budget": "100000"})
    assert response.status_code == 302
    settings = TranslationSettings.objects.get(workspace_id=admin.workspace_id)
    assert settings.provider == "deepl" and settings.monthly_budget == 100_000 and "k:fx" not in settings.secret
    client.post("/app/admin/translation", {"provider": "deepl", "base_url": fake.url, "api_key": "",
                                           "monthly_budget": "100000"})
    settings.refresh_from_db()
    assert settings.secret  # an empty key field keeps the stored key
    client.post("/app/admin/translation/glossary", {"term": "Threadline", "to_cs": "", "to_th": "เธรดไลน์"})
    term = GlossaryTerm.objects.get(workspace_id=admin.workspace_id)
    assert term.translations == {"th": "เธรดไลน์"}
    html = client.get("/app/admin/translation").content.decode()
    assert "Threadline" in html and 'id="usage"' in html and "k:fx" not in html
    refused = client.post("/app/admin/translation", {"provider": "libretranslate", "base_url": ""})
    assert refused.status_code == 400
    client.post(f"/app/admin/translation/glossary/{term.pk}/delete")
    assert not GlossaryTerm.objects.exists()
    other = factories.make_workspace("Elsewhere")
    client.force_login(other.user)
    with transaction.atomic():
        from threadline.translation.actions import do_save_glossary_term
        foreign = do_save_glossary_term(admin, "Mine")
    assert client.post(f"/app/admin/translation/glossary/{foreign.pk}/delete").status_code == 404


def test_an_article_is_machine_translated_into_drafts(client, admin, configure, fake):
    configure(admin)
    with transaction.atomic():
        do_save_help_center(admin, None, brand=Brand.objects.get(workspace_id=admin.workspace_id), slug="help-tc",
                            name="Help", default_language="en", languages=["en", "cs", "th"])
        english = do_create_article(admin, section=None, language="en", title="How to reset your password",
                                    body="Open Settings and choose Password.")
    client.force_login(admin.user)
    response = client.post(f"/app/knowledge/{english.article_id}/en/machine-translate")
    assert response.status_code == 302 and response["Location"].endswith("?machine=2")
    drafts = {t.language: t for t in ArticleTranslation.objects.filter(article_id=english.article_id)}
    assert drafts["cs"].title == "Jak obnovit heslo" and drafts["cs"].body_source == "Otevřete Nastavení a zvolte Heslo."
    assert drafts["th"].state == "draft" and drafts["th"].title == "วิธีรีเซ็ตรหัสผ่าน"
    assert drafts["cs"].versions.get().note == "machine-translated from en (libretranslate)"
    html = client.get(f"/app/knowledge/{english.article_id}/cs").content.decode()
    assert "kb-machine-note" in html
    assert usage_of(admin.workspace_id).characters > 0 and CachedTranslation.objects.count() == 4


def test_settings_say_which_languages_the_agent_reads(agent_client):
    html = agent_client.get("/app/settings").content.decode()
    assert 'id="reads-languages"' in html

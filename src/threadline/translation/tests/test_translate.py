"""Translating through the cache, the monthly budget and the glossary, per workspace."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.audit.models import AuditEntry
from threadline.core import crypto
from threadline.core.errors import PermissionDenied, ValidationFailed
from threadline.testing import factories
from threadline.translation import glossary
from threadline.translation.actions import (
    do_delete_glossary_term,
    do_save_glossary_term,
    do_save_settings,
    translate_one,
    translate_texts,
)
from threadline.translation.base import BudgetExhausted, NotConfigured, ProviderFailed
from threadline.translation.models import CachedTranslation, TranslationSettings
from threadline.translation.queries import usage_of

pytestmark = pytest.mark.django_db(transaction=True)

THAI = "สวัสดีครับ คำสั่งซื้อของฉันยังไม่มาถึง"
CZECH = "Dobrý den, moje objednávka ještě nedorazila."


def translate_calls(fake):
    return [r for r in fake.requests if r["path"] in ("/translate", "/v2/translate", "/language/translate/v2")]


def test_without_a_provider_nothing_is_translated(admin):
    with pytest.raises(NotConfigured) as caught:
        translate_one(admin.workspace_id, THAI, "th", "cs")
    assert caught.value.code == "translation_not_configured"


def test_the_key_is_encrypted_at_rest_and_kept_when_not_given(admin, configure, fake):
    configure(admin, "deepl", key="secret-deepl-key")
    row = TranslationSettings.objects.get(workspace_id=admin.workspace_id)
    assert "secret-deepl-key" not in row.secret
    assert crypto.decrypt_json(row.secret) == {"api_key": "secret-deepl-key"}
    with transaction.atomic():
        do_save_settings(admin, provider="deepl", base_url=fake.url, api_key=None, monthly_budget=5)
    row.refresh_from_db()
    assert crypto.decrypt_json(row.secret) == {"api_key": "secret-deepl-key"} and row.monthly_budget == 5
    entry = AuditEntry.objects.filter(action="translation.settings_saved").latest("pk")
    assert "secret-deepl-key" not in str(entry.details)


def test_settings_are_validated_and_admin_only(admin):
    agent = factories.make_agent(admin, "agent@translating.example")
    with pytest.raises(PermissionDenied):
        do_save_settings(agent, provider="libretranslate", base_url="https://lt.example")
    with pytest.raises(ValidationFailed) as caught:
        do_save_settings(admin, provider="deepl")
    assert caught.value.code == "missing_api_key"
    with pytest.raises(ValidationFailed) as caught:
        do_save_settings(admin, provider="libretranslate")
    assert caught.value.field == "base_url"
    with pytest.raises(ValidationFailed):
        do_save_settings(admin, provider="babelfish")


@pytest.mark.parametrize("kind", ["deepl", "google", "libretranslate"])
def test_the_cache_serves_the_same_text_again_without_cost(admin, configure, fake, kind):
    configure(admin, kind)
    first = translate_one(admin.workspace_id, THAI, "th", "cs")
    assert first.texts == [CZECH] and first.characters_sent == len(THAI)
    again = translate_one(admin.workspace_id, THAI, "th", "cs")
    assert again.texts == [CZECH] and again.characters_sent == 0
    assert len(translate_calls(fake)) == 1
    usage = usage_of(admin.workspace_id)
    assert (usage.characters, usage.cached_characters, usage.requests) == (len(THAI), len(THAI), 1)
    assert CachedTranslation.objects.get(workspace_id=admin.workspace_id).hits == 1


def test_the_cache_is_per_workspace_and_per_provider(admin, configure, fake):
    other = factories.make_workspace("Other Co")
    configure(admin)
    configure(other)
    translate_one(admin.workspace_id, THAI, "th", "cs")
    translate_one(other.workspace_id, THAI, "th", "cs")
    assert len(translate_calls(fake)) == 2  # another workspace's text is never served from this one's cache
    configure(admin, "google")
    translate_one(admin.workspace_id, THAI, "th", "cs")
    assert len(translate_calls(fake)) == 3


def test_the_monthly_budget_is_counted_and_enforced(admin, configure, fake):
    configure(admin, budget=len(THAI) + 5)
    translate_one(admin.workspace_id, THAI, "th", "cs")
    with pytest.raises(BudgetExhausted) as caught:
        translate_one(admin.workspace_id, "ขอบคุณครับ ขอบคุณครับ", "th", "cs")
    assert caught.value.status == 409 and caught.value.code == "translation_budget_exhausted"
    assert len(translate_calls(fake)) == 1  # refused before the provider is called
    assert translate_one(admin.workspace_id, THAI, "th", "cs").texts == [CZECH]  # cached: no budget needed
    assert translate_one(admin.workspace_id, "ขอบ", "th", "cs").characters_sent == 3  # still fits
    assert usage_of(admin.workspace_id).characters == len(THAI) + 3


def test_a_failed_call_gives_its_characters_back(admin, configure, fake):
    configure(admin, budget=1000)
    fake.answers.append((500, {"error": "boom"}, {}))
    with pytest.raises(ProviderFailed):
        translate_one(admin.workspace_id, THAI, "th", "cs")
    assert usage_of(admin.workspace_id).characters == 0
    assert not CachedTranslation.objects.exists()


def test_same_language_is_not_sent(admin, configure, fake):
    configure(admin)
    assert translate_one(admin.workspace_id, "Ahoj", "cs", "cs").texts == ["Ahoj"]
    assert fake.requests == []


def test_placeholders_keep_and_map_terms():
    text, replacements = glossary.protect("Open Settings in Threadline Pro, not Product.",
                                          {"Settings": "Nastavení", "threadline pro": "threadline pro"})
    assert text == "Open ⟦0⟧ in ⟦1⟧, not Product."
    assert glossary.restore("Otevřete ⟦ 0 ⟧ v ⟦1⟧.", replacements) == "Otevřete Nastavení v Threadline Pro."
    assert glossary.protect("ใช้Threadline", {"Threadline": "Threadline"})[0] == "ใช้⟦0⟧"
    assert glossary.restore("Otevřete.", ["Nastavení"]) == "Otevřete. (Nastavení)"  # a dropped term is not lost


def test_the_glossary_protects_terms_with_providers_without_glossaries(admin, configure, fake):
    configure(admin, "libretranslate")
    with transaction.atomic():
        do_save_glossary_term(admin, "Settings", {"th": "Settings"})  # kept in Thai, mapped nowhere else
    done = translate_one(admin.workspace_id, "Open Settings and choose Password.", "en", "cs")
    assert fake.requests[-1]["body"]["q"] == ["Open ⟦0⟧ and choose Password."]
    assert done.texts == ["Otevřete Settings a zvolte Heslo."]


def test_deepl_uses_its_own_glossary_and_a_change_makes_a_new_one(admin, configure, fake):
    configure(admin, "deepl")
    with transaction.atomic():
        term = do_save_glossary_term(admin, "Open Settings", {"cs": "Otevřete Nastavení"})
    done = translate_one(admin.workspace_id, "Open Settings now", "en", "cs")
    glossary_id = fake.requests[-1]["body"]["glossary_id"]
    assert fake.glossaries[glossary_id]["entries"] == {"Open Settings": "Otevřete Nastavení"}
    assert fake.requests[-1]["body"]["text"] == ["Open Settings now"]  # no placeholders: DeepL holds the terms
    assert done.texts == ["Otevřete Nastavení now"]  # the fake applies the glossary's entries
    with transaction.atomic():
        do_delete_glossary_term(admin, term)
    again = translate_one(admin.workspace_id, "Open Settings now", "en", "cs")
    assert again.characters_sent > 0  # the glossary changed: the old translation is not reused
    assert "glossary_id" not in fake.requests[-1]["body"]  # nothing left in the glossary


def test_deepl_pairs_without_glossaries_fall_back_to_placeholders(admin, configure, fake):
    configure(admin, "deepl")
    fake.glossary_pairs.clear()
    with transaction.atomic():
        do_save_glossary_term(admin, "Settings")
    translate_one(admin.workspace_id, "Open Settings and choose Password.", "en", "cs")
    assert fake.requests[-1]["body"]["text"] == ["Open ⟦0⟧ and choose Password."]
    assert "glossary_id" not in fake.requests[-1]["body"]


def test_a_batch_mixes_cached_and_new_texts(admin, configure, fake):
    configure(admin)
    translate_one(admin.workspace_id, "Hello", "en", "cs")
    done = translate_texts(admin.workspace_id, ["Hello", "How to reset your password"], "en", "cs")
    assert done.texts == ["Dobrý den", "Jak obnovit heslo"]
    assert fake.requests[-1]["body"]["q"] == ["How to reset your password"]

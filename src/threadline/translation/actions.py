"""Writes for machine translation: the workspace's provider and glossary (callers own the transaction), and
translating texts through the cache and the monthly budget.

`translate_texts` is the one path to a provider. It runs OUTSIDE the caller's transaction (a provider may take
seconds; no database lock is held meanwhile) and opens short ones of its own: it reserves the characters of
the texts the cache does not have with one conditional UPDATE (so two concurrent calls cannot both pass the
budget), calls the provider, gives the reservation back when the provider fails, and stores what it got.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.channels.models import Channel
from threadline.conversations.actions import check_text, do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.core import crypto
from threadline.core.errors import ValidationFailed
from threadline.core.http import refuse_private_url
from threadline.knowledge.actions import do_save_translation
from threadline.knowledge.models import Article, ArticleTranslation, BodyFormat, HelpCenter, State
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require
from threadline.translation import glossary, queries
from threadline.translation.base import BudgetExhausted, Call, NotConfigured
from threadline.translation.models import (
    CachedTranslation,
    GlossaryTerm,
    MonthlyUsage,
    Provider,
    TranslationSettings,
)
from threadline.translation.registry import provider_for

logger = logging.getLogger(__name__)
MAX_CHARACTERS = 50_000  # one call: an article's body at most
MAX_TERMS = 500


# ── settings and glossary (callers own the transaction) ───────────────────────────────────────────────
def check_provider(provider: str, base_url: str, api_key: str | None, existing: TranslationSettings | None) -> None:
    if provider not in Provider.values:
        raise ValidationFailed(_("Unknown translation provider."), code="invalid_provider", field="provider")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ValidationFailed(_("The address must start with http:// or https://."), code="invalid_url",
                               field="base_url")
    if base_url:
        refuse_private_url(base_url, field="base_url")
    if provider == Provider.LIBRETRANSLATE and not base_url:
        raise ValidationFailed(_("Give the address of your LibreTranslate server."), code="invalid_url",
                               field="base_url")
    has_key = bool(api_key) or (api_key is None and existing is not None and bool(existing.secret)
                                and existing.provider == provider)
    if provider in (Provider.DEEPL, Provider.GOOGLE) and not has_key:
        raise ValidationFailed(_("This provider needs an API key."), code="missing_api_key", field="api_key")


def do_save_settings(actor: Membership, *, provider: str, base_url: str = "", api_key: str | None = None,
                     monthly_budget: int = 0) -> TranslationSettings:
    """Choose the provider (empty: none). `api_key` None keeps the stored key; "" removes it."""
    require(actor, Permission.ADMIN_WORKSPACE)
    existing = queries.settings_for(actor.workspace_id)
    base_url = (base_url or "").strip()
    check_provider(provider, base_url, api_key, existing)
    if not 0 <= monthly_budget <= 10**12:
        raise ValidationFailed(_("Give a number of characters (0: no limit)."), code="invalid_budget",
                               field="monthly_budget")
    settings = existing or TranslationSettings(workspace_id=actor.workspace_id)
    if settings.provider != provider:
        settings.provider_glossaries = {}
    settings.provider, settings.base_url, settings.monthly_budget = provider, base_url, monthly_budget
    if api_key is not None:
        settings.secret = crypto.encrypt_json({"api_key": api_key.strip()}) if api_key.strip() else ""
    settings.save()
    record_change("translation.settings_saved", settings, {"provider": provider, "base_url": base_url,
                                                          "monthly_budget": monthly_budget,
                                                          "key_changed": api_key is not None}, actor=actor)
    return settings


def _glossary_changed(workspace_id: int) -> None:
    """Translations made with the old glossary are not reused, and provider-side glossaries are remade."""
    settings, _created = TranslationSettings.objects.get_or_create(workspace_id=workspace_id)
    TranslationSettings.objects.filter(pk=settings.pk).update(glossary_version=F("glossary_version") + 1,
                                                              provider_glossaries={})


def check_term(term: str, translations: dict[str, str]) -> tuple[str, dict[str, str]]:
    term = (term or "").strip()
    if not term or len(term) > 200 or "⟦" in term:
        raise ValidationFailed(_("Give a term of at most 200 characters."), code="invalid_term", field="term")
    clean = {code.strip().lower()[:16]: value.strip()[:200] for code, value in (translations or {}).items()
             if code.strip() and value.strip()}
    return term, clean


def do_save_glossary_term(actor: Membership, term: str, translations: dict[str, str] | None = None) -> GlossaryTerm:
    """Add a term, or change its mappings: no mapping keeps it untranslated in every language."""
    require(actor, Permission.ADMIN_WORKSPACE)
    term, clean = check_term(term, translations or {})
    row = GlossaryTerm.objects.filter(workspace_id=actor.workspace_id, term__iexact=term).first()
    if row is None:
        if GlossaryTerm.objects.filter(workspace_id=actor.workspace_id).count() >= MAX_TERMS:
            raise ValidationFailed(_("A glossary holds at most %(n)d terms.") % {"n": MAX_TERMS},
                                   code="too_many_terms", field="term")
        row = GlossaryTerm(workspace_id=actor.workspace_id)
    row.term, row.translations = term, clean
    row.save()
    _glossary_changed(actor.workspace_id)
    record_change("translation.glossary_saved", row, {"term": term, "translations": clean}, actor=actor)
    return row


def do_delete_glossary_term(actor: Membership, term: GlossaryTerm) -> None:
    require(actor, Permission.ADMIN_WORKSPACE)
    record_change("translation.glossary_deleted", term, {"term": term.term}, actor=actor)
    term.delete()
    _glossary_changed(actor.workspace_id)


# ── translating (outside the caller's transaction) ──────────────────────────────────────────────────────
@dataclass(frozen=True)
class Translated:
    texts: list[str]
    source: str
    target: str
    provider: str
    characters_sent: int  # 0 when everything came from the cache


def _reserve(workspace_id: int, characters: int, budget: int) -> int:
    with transaction.atomic():
        usage, _created = MonthlyUsage.objects.get_or_create(workspace_id=workspace_id, month=queries.month_of())
        rows = MonthlyUsage.objects.filter(pk=usage.pk)
        if budget:
            rows = rows.filter(characters__lte=budget - characters)
        if not rows.update(characters=F("characters") + characters, requests=F("requests") + 1):
            raise BudgetExhausted(_("This month's translation budget of %(n)s characters is used up.")
                                  % {"n": f"{budget:,}"})
    return int(usage.pk)


def _count_cached(workspace_id: int, characters: int) -> None:
    with transaction.atomic():
        usage, _created = MonthlyUsage.objects.get_or_create(workspace_id=workspace_id, month=queries.month_of())
        MonthlyUsage.objects.filter(pk=usage.pk).update(cached_characters=F("cached_characters") + characters)


def _glossary_id(settings: TranslationSettings, provider: object, source: str, target: str,
                 entries: dict[str, str]) -> str:
    """The provider-side glossary for the pair at this glossary version, made on first use ("" if none)."""
    if not entries or not source or not getattr(provider, "native_glossary", False):
        return ""
    key = f"{settings.glossary_version}:{source}-{target}"
    known = (settings.provider_glossaries or {}).get(key)
    if known is not None:
        return str(known)
    made = provider.create_glossary(f"threadline-{settings.workspace_id}-{key}", source, target,  # type: ignore[attr-defined]
                                    entries)
    with transaction.atomic():
        row = TranslationSettings.objects.select_for_update().get(pk=settings.pk)
        if row.glossary_version == settings.glossary_version:
            row.provider_glossaries = {**(row.provider_glossaries or {}), key: made}
            row.save(update_fields=["provider_glossaries", "updated_at"])
    return made


def translate_texts(workspace_id: int, texts: list[str], source: str, target: str) -> Translated:
    """`texts` from `source` ("" to let the provider detect it) into `target`, through the cache and budget."""
    settings = queries.configured(workspace_id)
    if settings is None:
        raise NotConfigured()
    source, target = queries.base(source), queries.base(target)
    if not target:
        raise ValidationFailed(_("Choose the language to translate into."), code="invalid_language", field="target")
    if sum(len(t) for t in texts) > MAX_CHARACTERS:
        raise ValidationFailed(_("The text is too long to translate."), code="text_too_long", field="text")
    if source == target:
        return Translated(list(texts), source, target, settings.provider, 0)
    hashes = [queries.text_hash(t) for t in texts]
    rows = {row.text_hash: row for row in CachedTranslation.objects.filter(
        workspace_id=workspace_id, provider=settings.provider, source_language=source, target_language=target,
        glossary_version=settings.glossary_version, text_hash__in=set(hashes))} if source else {}
    missing = [i for i, h in enumerate(hashes) if h not in rows and texts[i].strip()]
    cached_chars = sum(len(texts[i]) for i, h in enumerate(hashes) if h in rows)
    if cached_chars:
        CachedTranslation.objects.filter(pk__in=[r.pk for r in rows.values()]).update(hits=F("hits") + 1)
        _count_cached(workspace_id, cached_chars)
    out = [rows[h].translated if h in rows else texts[i] for i, h in enumerate(hashes)]
    sent = sum(len(texts[i]) for i in missing)
    detected = source
    if missing:
        usage_pk = _reserve(workspace_id, sent, settings.monthly_budget)
        try:
            detected = _call_provider(settings, [texts[i] for i in missing], source, target, out, missing)
        except Exception:  # the provider charged nothing: the reservation is given back, whatever failed
            MonthlyUsage.objects.filter(pk=usage_pk).update(characters=F("characters") - sent)
            raise
        _store(settings, detected, target, [(texts[i], hashes[i], out[i]) for i in missing])
    return Translated(out, detected, target, settings.provider, sent)


def _call_provider(settings: TranslationSettings, texts: list[str], source: str, target: str, out: list[str],
                   positions: list[int]) -> str:
    key = crypto.decrypt_json(settings.secret).get("api_key", "") if settings.secret else ""
    provider = provider_for(settings.provider, settings.base_url, key)
    entries = queries.glossary_entries(settings.workspace_id, target)
    glossary_id = _glossary_id(settings, provider, source, target, entries)
    protected = [glossary.protect(t, {} if glossary_id else entries) for t in texts]
    result = provider.translate(Call([p[0] for p in protected], source, target, glossary_id))
    for position, (_text, replacements), translated in zip(positions, protected, result.texts, strict=True):
        out[position] = glossary.restore(translated, replacements)
    return source or queries.base(result.detected_source)


def _store(settings: TranslationSettings, source: str, target: str, items: list[tuple[str, str, str]]) -> None:
    if not source:
        return  # the provider did not say what it translated from: nothing to key the cache on
    for text, digest, translated in items:
        try:
            with transaction.atomic():
                CachedTranslation.objects.get_or_create(
                    workspace_id=settings.workspace_id, provider=settings.provider, source_language=source,
                    target_language=target, text_hash=digest, glossary_version=settings.glossary_version,
                    defaults={"translated": translated, "characters": len(text)})
        except IntegrityError:
            logger.info("translation of %s cached meanwhile", digest[:12])


def translate_one(workspace_id: int, text: str, source: str, target: str) -> Translated:
    return translate_texts(workspace_id, [text], source, target)



# ── conversations ─────────────────────────────────────────────────────────────────────────────────────
def translate_message(agent: Membership, message: Message) -> queries.Shown:
    """A customer's message in the agent's language (cached per text: the next agent and the next view are
    free). The caller has looked the message up with `access_message`."""
    require(agent, Permission.VIEW)
    if message.is_note or message.direction != "in":
        raise ValidationFailed(_("Only customers' messages are translated for agents."), code="not_translatable",
                               field="message_id")
    target = queries.agent_language(agent)
    done = translate_one(agent.workspace_id, message.text, message.language, target)
    return queries.Shown("done", done.source, target, done.texts[0])


def preview_reply(agent: Membership, conversation: Conversation, text: str) -> Translated:
    """What the customer would get: `text`, written in the agent's language, in the conversation's language.
    Never used for internal notes (they are not sent, so never translated out)."""
    require(agent, Permission.REPLY)
    text = check_text(text)
    state = queries.composer_translation(agent, conversation)
    if not state.needed:
        raise ValidationFailed(_("The customer writes in your language: nothing to translate."),
                               code="translation_not_needed", field="text")
    return translate_one(agent.workspace_id, text, state.agent_language, state.customer_language)


def do_send_translated_reply(agent: Membership, conversation: Conversation, text: str, translated: Translated, *,
                             channel: Channel | None = None,
                             attachments: list[tuple[str, str, bytes]] | None = None) -> Message:
    """Send `translated` (from `preview_reply`, made before the caller's transaction) to the customer, keeping
    the agent's own `text` on the message for agents to see."""
    original = check_text(text)
    return do_send_reply(agent, conversation, translated.texts[0], channel=channel, attachments=attachments,
                         language=translated.target, metadata={"translation": {
                             "original": original, "source": translated.source, "target": translated.target,
                             "provider": translated.provider}})


# ── knowledge base ────────────────────────────────────────────────────────────────────────────────────
def article_languages(article: Article) -> list[str]:
    """The languages of the article's help center (every help center's of the workspace when it is not filed)."""
    section = article.section
    if section is not None:
        center = section.category.help_center
        return list(dict.fromkeys([center.default_language, *(center.languages or [])]))
    languages: list[str] = []
    for center in HelpCenter.objects.filter(workspace_id=article.workspace_id).order_by("pk"):
        languages += [center.default_language, *(center.languages or [])]
    return list(dict.fromkeys(languages))


def machine_drafts(agent: Membership, article: Article, source_language: str) -> dict[str, tuple[str, str]]:
    """The article's `source_language` translation translated into each help-center language that has no
    translation yet or only a draft: `{language: (title, body)}`. Network only; no writes."""
    require(agent, Permission.KNOWLEDGE_EDIT)
    original = article.translations.filter(language=source_language).first()
    if original is None:
        raise ValidationFailed(_("The article has no %(language)s text to translate from.")
                               % {"language": source_language}, code="no_source_translation", field="language")
    busy = set(article.translations.exclude(state=State.DRAFT).values_list("language", flat=True))
    targets = [code for code in article_languages(article) if code != source_language and code not in busy]
    if not targets:
        raise ValidationFailed(_("Every language of the help center has a translation under review or published."),
                               code="nothing_to_translate", field="language")
    drafts = {}
    for target in targets:
        done = translate_texts(article.workspace_id, [original.title, original.body_source], source_language, target)
        drafts[target] = (done.texts[0], done.texts[1])
    return drafts


def do_save_machine_drafts(agent: Membership, article: Article, source_language: str,
                           drafts: dict[str, tuple[str, str]], provider: str) -> list[ArticleTranslation]:
    """Store each machine translation as a draft for review; its version is marked machine-translated."""
    require(agent, Permission.KNOWLEDGE_EDIT)
    note = machine_note(source_language, provider)
    original = article.translations.filter(language=source_language).first()
    body_format = original.body_format if original is not None else BodyFormat.MARKDOWN
    saved = []
    for language, (title, body) in drafts.items():
        existing = article.translations.filter(language=language).first()
        if existing is not None and existing.state != State.DRAFT:
            continue  # someone submitted or published it meanwhile: never overwritten by a machine
        saved.append(do_save_translation(agent, article, language, title=title[:300] or "—", body=body,
                                         body_format=body_format, note=note))
    return saved


def machine_note(source_language: str, provider: str) -> str:
    return f"{queries.MACHINE_MARK} {source_language} ({provider})"

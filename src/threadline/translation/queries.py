"""Reads for translation: a workspace's settings and glossary, which languages an agent reads, and what the
conversation view shows for each message (a cached translation, one still to fetch, or none needed)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from threadline.conversations.models import Conversation, Message
from threadline.core.errors import NotFound
from threadline.core.time import now
from threadline.knowledge.models import ArticleTranslation
from threadline.routing.models import AgentProfile
from threadline.tenancy.models import Membership, Workspace
from threadline.translation.models import CachedTranslation, GlossaryTerm, MonthlyUsage, TranslationSettings


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def month_of(moment: dt.datetime | None = None) -> dt.date:
    moment = moment or now()
    return dt.date(moment.year, moment.month, 1)


def settings_for(workspace_id: int) -> TranslationSettings | None:
    return TranslationSettings.objects.filter(workspace_id=workspace_id).first()


def configured(workspace_id: int) -> TranslationSettings | None:
    """The workspace's settings when a provider is chosen, else None."""
    found = settings_for(workspace_id)
    return found if found is not None and found.provider else None


def glossary_of(workspace_id: int) -> list[GlossaryTerm]:
    return list(GlossaryTerm.objects.filter(workspace_id=workspace_id).order_by("term"))


def glossary_entries(workspace_id: int, target: str) -> dict[str, str]:
    """Each term and what it becomes in `target` (the term itself when it is kept)."""
    return {t.term: (t.translations or {}).get(target) or t.term for t in glossary_of(workspace_id)}


def access_glossary_term(actor: Membership, term_id: int) -> GlossaryTerm:
    term = GlossaryTerm.objects.filter(workspace_id=actor.workspace_id, pk=term_id).first()
    if term is None:
        raise NotFound(_("No such glossary term."), code="glossary_term_not_found")
    return term


def usage_of(workspace_id: int, month: dt.date | None = None) -> MonthlyUsage:
    found = MonthlyUsage.objects.filter(workspace_id=workspace_id, month=month or month_of()).first()
    return found or MonthlyUsage(workspace_id=workspace_id, month=month or month_of())


def agent_languages(agent: Membership) -> list[str]:
    """The languages an agent reads and writes: their routing profile's (Teams and skills), else the language
    of their interface."""
    profile = AgentProfile.objects.filter(membership_id=agent.pk).values_list("languages", flat=True).first()
    languages = [str(code).lower() for code in (profile or []) if code]
    return languages or [agent.user.language]


def agent_language(agent: Membership, spoken: list[str] | None = None) -> str:
    """The language to translate into for this agent, and the one their replies are written in: their
    interface's when they speak it, else the first they speak (`spoken`: `agent_languages(agent)` when the
    caller has it)."""
    languages = agent_languages(agent) if spoken is None else spoken
    return agent.user.language if agent.user.language in languages else languages[0]


def base(language: str) -> str:
    return (language or "").split("-")[0].lower()


def speaks(languages: Iterable[str], language: str) -> bool:
    return base(language) in {base(code) for code in languages}


def customer_language(conversation: Conversation) -> str:
    return conversation.language or getattr(conversation.contact, "language", "") or ""


@dataclass(frozen=True)
class Shown:
    """How the conversation view shows one inbound message to one agent."""

    state: str  # "done", "pending" (fetched by the page) or "unavailable" (no provider)
    source: str
    target: str
    text: str = ""


def timeline_translations(agent: Membership, messages: Iterable[Message],
                          spoken: list[str] | None = None) -> dict[int, Shown]:
    """For every customer message in a language the agent does not speak: its cached translation into the
    agent's language, or "pending" (the page asks for it), or "unavailable" without a provider. One query,
    and one for the agent's languages unless the caller passes them (`spoken`)."""
    spoken = agent_languages(agent) if spoken is None else spoken
    target = agent_language(agent, spoken)
    foreign = [m for m in messages if m.direction == "in" and not m.is_note and m.text and m.language
               and not speaks(spoken, m.language)]
    if not foreign:
        return {}
    settings = configured(agent.workspace_id)
    if settings is None:
        return {m.pk: Shown("unavailable", m.language, target) for m in foreign}
    hashes = {m.pk: text_hash(m.text) for m in foreign}
    cached = {(row.source_language, row.text_hash): row.translated for row in CachedTranslation.objects.filter(
        workspace_id=agent.workspace_id, provider=settings.provider, target_language=target,
        glossary_version=settings.glossary_version, text_hash__in=set(hashes.values()),
    ).only("source_language", "text_hash", "translated")}
    shown = {}
    for m in foreign:
        text = cached.get((m.language, hashes[m.pk]))
        shown[m.pk] = Shown("done" if text is not None else "pending", m.language, target, text or "")
    return shown


@dataclass(frozen=True)
class ComposerTranslation:
    """What the composer offers: translate before sending when the customer's language is not the agent's."""

    needed: bool
    available: bool
    agent_language: str
    customer_language: str


def composer_translation(agent: Membership, conversation: Conversation,
                         spoken: list[str] | None = None) -> ComposerTranslation:
    customer = customer_language(conversation)
    mine = agent_language(agent, spoken)
    needed = bool(customer) and base(customer) != base(mine)
    return ComposerTranslation(needed, needed and configured(agent.workspace_id) is not None, mine, customer)


def workspace_of(workspace_id: int) -> Workspace:
    return Workspace.objects.get(pk=workspace_id)


MACHINE_MARK = "machine-translated from"


def machine_translated(translation: ArticleTranslation) -> bool:
    """Whether the translation's latest version was written by machine translation (and not edited since)."""
    note = translation.versions.order_by("-number").values_list("note", flat=True).first()
    return bool(note and note.startswith(MACHINE_MARK))

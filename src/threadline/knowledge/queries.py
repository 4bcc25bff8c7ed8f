"""Reads of the knowledge base: `access_*` (permission-checked, workspace-scoped lookups for agents), the editor's
lists, public paths of the help center, and `search_articles` (ranked article search for the help center, the
answer bot and agents).

`search_articles` runs on the search engine (`Kind.ARTICLE`, one document per translation) one query per query
word, so an article that holds most of a customer's words is found even when it lacks one ("how do I track my
parcel" finds "Track your parcel"); a word that finds nothing is retried with its close spellings (typos).
The score is comparable across queries, 0..1:

    0.7 × coverage (the share of the query's words the article holds, each word weighted by its rarity, idf;
                    a word found only through a close spelling counts 0.8)
  + 0.2 × title coverage (the same, for the words in its title)
  + 0.1 × strength (how each word's rank, bm25 / ts_rank, compares with the best article for that word)

so 1.0 is "every word, all in the title, the best match for each", and the answer bot can use one threshold.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.encoding import iri_to_uri
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleTranslation,
    ArticleVersion,
    Category,
    HelpCenter,
    Section,
    State,
)
from threadline.knowledge.rendering import DiffLine, diff_lines, slugify
from threadline.search.analysis import query_groups
from threadline.search.backends import backend
from threadline.search.highlight import highlight
from threadline.search.models import Kind, SearchDocument, Visibility
from threadline.search.queries import MAX_GROUPS, MAX_QUERY, corrections
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

CANDIDATES = 200  # articles read per query word
SNIPPET = 300
CORRECTED = 0.8
COVERAGE, TITLE, STRENGTH = 0.7, 0.2, 0.1
_THAI = re.compile(r"[\u0e00-\u0e7f]")


@dataclass(frozen=True)
class ArticleHit:
    article_id: int
    translation_id: int
    language: str
    title: str
    snippet: str  # plain text, at most 300 characters, around the first matched word
    body_text: str
    score: float  # 0..1, higher is better, comparable across queries
    path: str  # the public /help/... path, "" when the translation is not public


# ── public paths (the help center's URL scheme) ──────────────────────────────────────────────────────────
def help_center_path(help_center: HelpCenter, language: str) -> str:
    return iri_to_uri(f"/help/{help_center.slug}/{language}/")


def category_path(category: Category, language: str) -> str:
    return iri_to_uri(f"/help/{category.help_center.slug}/{language}/categories/{category.pk}-"
                      f"{slugify(category.title_in(language))}/")


def section_path(section: Section, language: str) -> str:
    return iri_to_uri(f"/help/{section.category.help_center.slug}/{language}/sections/{section.pk}-"
                      f"{slugify(section.title_in(language))}/")


def article_path(translation: ArticleTranslation) -> str:
    """`/help/<help center slug>/<language>/articles/<article id>-<slug>/` (percent-encoded), or "" when the
    translation is not on the public site (a draft, an internal-only article, one not filed in a section)."""
    article = translation.article
    if not translation.is_public or article.section_id is None:
        return ""
    slug = article.section.category.help_center.slug
    return iri_to_uri(f"/help/{slug}/{translation.language}/articles/{article.pk}-{translation.slug}/")


# ── agents' lookups ──────────────────────────────────────────────────────────────────────────────────────
def _reader(actor: Membership) -> int:
    require(actor, Permission.VIEW)
    return actor.workspace_id


def list_help_centers(actor: Membership) -> QuerySet[HelpCenter]:
    return HelpCenter.objects.filter(workspace_id=_reader(actor)).select_related("brand").order_by("name", "pk")


def access_help_center(actor: Membership, help_center_id: int) -> HelpCenter:
    found = list_help_centers(actor).filter(pk=help_center_id).first()
    if found is None:
        raise NotFound(_("No such help center."), code="help_center_not_found")
    return found


def list_categories(actor: Membership) -> QuerySet[Category]:
    return Category.objects.filter(workspace_id=_reader(actor)).select_related("help_center")


def access_category(actor: Membership, category_id: int) -> Category:
    found = list_categories(actor).filter(pk=category_id).first()
    if found is None:
        raise NotFound(_("No such category."), code="category_not_found")
    return found


def list_sections(actor: Membership) -> QuerySet[Section]:
    return Section.objects.filter(workspace_id=_reader(actor)).select_related("category__help_center")


def access_section(actor: Membership, section_id: int) -> Section:
    found = list_sections(actor).filter(pk=section_id).first()
    if found is None:
        raise NotFound(_("No such section."), code="section_not_found")
    return found


def list_articles(actor: Membership, *, state: str | None = None, language: str | None = None,
                  label: str | None = None, section_id: int | None = None) -> QuerySet[Article]:
    """The workspace's articles, newest change first, filtered by a translation's state or language, a label
    or a section."""
    rows = Article.objects.filter(workspace_id=_reader(actor))
    if state or language:
        wanted = Q()
        if state:
            wanted &= Q(state=state)
        if language:
            wanted &= Q(language=language)
        rows = rows.filter(pk__in=ArticleTranslation.objects.filter(wanted, workspace_id=actor.workspace_id)
                           .values("article_id"))
    if label:
        rows = rows.filter(labels__name=label.strip().lower())
    if section_id:
        rows = rows.filter(section_id=section_id)
    translations = Prefetch("translations", queryset=ArticleTranslation.objects.order_by("pk"))
    return (rows.select_related("section__category__help_center")
            .prefetch_related(translations, "labels").order_by("-updated_at", "-pk"))


def access_article(actor: Membership, article_id: int) -> Article:
    found = list_articles(actor).prefetch_related("related__translations", "attachments").filter(pk=article_id).first()
    if found is None:
        raise NotFound(_("No such article."), code="article_not_found")
    return found


def article_contents(article: Article) -> dict[str, Any]:
    """What deleting an article removes: its translations (language, title, state, in id order) and how many
    versions, files and readers' answers they hold."""
    return {
        "translations": list(article.translations.order_by("pk").values("pk", "language", "title", "state")),
        "versions": ArticleVersion.objects.filter(translation__article=article).count(),
        "files": article.attachments.count(),
        "feedback": ArticleFeedback.objects.filter(translation__article=article).count(),
    }


def access_translation(actor: Membership, article_id: int, language: str) -> ArticleTranslation:
    found = (ArticleTranslation.objects.filter(workspace_id=_reader(actor), article_id=article_id,
                                               language=(language or "").lower())
             .select_related("article__section__category__help_center").first())
    if found is None:
        raise NotFound(_("This article has no translation in that language."), code="translation_not_found")
    return found


def access_version(actor: Membership, article_id: int, language: str, number: int) -> ArticleVersion:
    translation = access_translation(actor, article_id, language)
    found = translation.versions.filter(number=number).select_related("author__user").first()
    if found is None:
        raise NotFound(_("No such version."), code="version_not_found")
    return found


def access_attachment(actor: Membership, attachment_id: int) -> ArticleAttachment:
    found = ArticleAttachment.objects.filter(workspace_id=_reader(actor), pk=attachment_id).first()
    if found is None:
        raise NotFound(_("No such attachment."), code="attachment_not_found")
    return found


def public_attachment(key: str) -> ArticleAttachment | None:
    """An attachment readers may fetch: its article is not internal-only and has a published translation."""
    return (ArticleAttachment.objects.filter(key=key, article__internal_only=False,
                                             article__translations__state=State.PUBLISHED).first())


def attachment_url(attachment: ArticleAttachment) -> str:
    """Where readers fetch a file of an article (images inline in its body)."""
    return iri_to_uri(f"/help/files/{attachment.key}/{attachment.filename}")


def version_diff(old: ArticleVersion, new: ArticleVersion) -> list[DiffLine]:
    """The line diff from `old` to `new` (title as the first line, then the body)."""
    return diff_lines(f"# {old.title}\n{old.body_source}", f"# {new.title}\n{new.body_source}")


def feedback_counts(translation: ArticleTranslation) -> dict[str, int]:
    counts = translation.feedback.aggregate(yes=Count("pk", filter=Q(helpful=True)),
                                            no=Count("pk", filter=Q(helpful=False)))
    return {"helpful": counts["yes"] or 0, "not_helpful": counts["no"] or 0}


# ── search ───────────────────────────────────────────────────────────────────────────────────────────────
@dataclass
class _Word:
    group: tuple[str, ...]  # the query word's own forms (query_groups)
    forms: tuple[str, ...]  # those and close spellings when corrected
    weight: float  # idf
    ranks: dict[int, float]  # translation id → the engine's score for this word
    corrected: bool
    prefix: bool
    best: float = 0.0  # the best engine score among `ranks`


def _matcher(workspace_id: int, visibilities: Sequence[str]) -> Callable[[tuple[str, ...], bool], dict[int, float]]:
    engine = backend()

    def run(forms: tuple[str, ...], prefix: bool) -> dict[int, float]:
        """Translation id → the engine's score, for the articles holding any of `forms`."""
        return {h.object_id: h.score for h in engine.match(workspace_id, [forms], kinds=[Kind.ARTICLE],
                                                           visibilities=visibilities, limit=CANDIDATES,
                                                           prefix_last=prefix)}

    return run


def _words(workspace_id: int, query: str, visibilities: Sequence[str]) -> list[_Word]:
    """Each query word with the articles that hold it; a word that finds nothing is tried with its close
    spellings. A Thai run the segmenter cut into pieces that find nothing (a typo breaks segmentation:
    "ที่อยุ่" → "ที่", "อยุ่") is corrected as a whole ("ที่อยู่") instead."""
    groups = query_groups(query)[:MAX_GROUPS]
    run = _matcher(workspace_id, visibilities)
    words = []
    for i, group in enumerate(groups):
        prefix = i == len(groups) - 1 and len(group[0]) >= 3
        forms, ranks, corrected = group, run(group, prefix), False
        if not ranks:
            wider = tuple(dict.fromkeys((*group, *corrections(workspace_id, group[0]))))
            if wider != group:
                forms, ranks, corrected = wider, run(wider, prefix), True
        words.append(_Word(group, forms, 0.0, ranks, corrected, prefix))
    for chunk in query.split():
        pieces = query_groups(chunk)
        at = [i for i, w in enumerate(words) if w.group in pieces] if len(pieces) > 1 else []
        if not _THAI.search(chunk) or not at or all(words[i].ranks for i in at):
            continue
        joined = "".join(p[0] for p in pieces)
        fixed = corrections(workspace_id, joined)
        if fixed:
            words = [w for i, w in enumerate(words) if i not in at] + [
                _Word((joined,), (joined, *fixed), 0.0, run((joined, *fixed), False), True, False)]
    # the number of translations searched, for idf: from the translations' own index, not the search table
    # (which holds every message of the workspace too)
    states = [State.PUBLISHED] if list(visibilities) == [Visibility.PUBLIC] else [State.DRAFT, State.REVIEW,
                                                                                   State.PUBLISHED]
    total = ArticleTranslation.objects.filter(workspace_id=workspace_id, state__in=states).count()
    for w in words:
        w.weight = math.log(1 + (total + 1) / (len(w.ranks) + 1))
        w.best = max(w.ranks.values(), default=0.0)
    return words


def _in_title(word: _Word, title_terms: set[str]) -> bool:
    if word.prefix:
        return any(t.startswith(word.forms) for t in title_terms)
    return any(f in title_terms for f in word.forms)


def _score(pk: int, words: list[_Word], title_terms: set[str]) -> float:
    total = sum(w.weight for w in words) or 1.0
    coverage = title = strength = 0.0
    for w in words:
        if pk not in w.ranks:
            continue
        coverage += w.weight * (CORRECTED if w.corrected else 1.0)
        title += w.weight if _in_title(w, title_terms) else 0.0
        strength += w.weight * (w.ranks[pk] / w.best if w.best > 0 else 1.0)
    return round((COVERAGE * coverage + TITLE * title + STRENGTH * strength) / total, 4)


def _snippet(text: str, groups: list[tuple[str, ...]]) -> str:
    parts = highlight(text, groups, width=100, prefix_last=True)
    snippet = "".join(part for part, _ in parts).strip() if any(hit for _, hit in parts) else text.strip()
    return snippet if len(snippet) <= SNIPPET else snippet[:SNIPPET - 1].rstrip() + "…"


def search_articles(workspace_id: int, query: str, *, language: str | None, brand_id: int | None = None,
                    include_internal: bool = False, limit: int = 5) -> list[ArticleHit]:
    """The best article translations for `query`, best first (see the module's docstring for the score). Only
    published translations of public articles, unless `include_internal` (agents: internal-only articles and
    unpublished translations too; never archived ones). `language` and `brand_id` narrow to one language and
    one brand's help center."""
    query = (query or "")[:MAX_QUERY]
    if not query_groups(query) or limit < 1:
        return []
    visibilities = [Visibility.PUBLIC, Visibility.INTERNAL] if include_internal else [Visibility.PUBLIC]
    words = _words(workspace_id, query, visibilities)
    candidates = set().union(*(w.ranks for w in words))
    if not candidates:
        return []
    rows = ArticleTranslation.objects.filter(workspace_id=workspace_id, pk__in=candidates).exclude(
        state=State.ARCHIVED)
    if language:
        rows = rows.filter(language=language.lower())
    if brand_id is not None:
        rows = rows.filter(article__section__category__help_center__brand_id=brand_id)
    if not include_internal:
        rows = rows.filter(state=State.PUBLISHED, article__internal_only=False)
    allowed = set(rows.values_list("pk", flat=True))
    titles = dict(SearchDocument.objects.filter(kind=Kind.ARTICLE, object_id__in=allowed)
                  .values_list("object_id", "title"))
    order = {pk: i for i, pk in enumerate(sorted(allowed, key=lambda pk: -sum(w.ranks.get(pk, 0) for w in words)))}
    scored = sorted(((_score(pk, words, set(titles.get(pk, "").split())), pk) for pk in allowed),
                    key=lambda sp: (-sp[0], order[sp[1]]))[:limit]
    found = {t.pk: t for t in ArticleTranslation.objects.filter(pk__in=[pk for _, pk in scored])
             .select_related("article__section__category__help_center")}
    snippet_groups = [w.forms for w in words]
    return [ArticleHit(article_id=t.article_id, translation_id=t.pk, language=t.language, title=t.title,
                       snippet=_snippet(t.body_text, snippet_groups), body_text=t.body_text, score=score,
                       path=article_path(t))
            for score, pk in scored if (t := found.get(pk)) is not None]
